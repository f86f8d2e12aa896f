import type { TriggerRecord } from '../store/trigger-types.js';
import type { FunctionRecord } from '../store/types.js';

/**
 * The control plane's change feed: what changed in functions, secrets, invoke keys and triggers,
 * told to the parts that keep something about them (the function cache, the invoke-key cache, the
 * log buffer, the instances, the trigger manager). The control plane stores a change, then publishes it; it never calls those
 * parts itself, so several control-plane replicas can share one feed.
 *
 * Events are plain JSON data, so a feed may carry them between processes (Postgres LISTEN/NOTIFY,
 * NATS). Implementations: in-process (`InProcessChangeFeed`). Every implementation passes
 * test/control/change-feed-contract.ts.
 */
export interface ChangeFeed {
  /**
   * Tells every subscriber of `event.type`. Resolves once this process's handlers have settled
   * (so a removal has drained the function's instances when it resolves); rejects, after all of
   * them have settled, when one failed.
   */
  publish(event: ChangeEvent): Promise<void>;
  /**
   * Calls `handler` for every later event of `type` until the returned function is called. Handlers
   * start in the order they subscribed and may be async; one's failure never keeps another from running.
   */
  subscribe<T extends ChangeType>(type: T, handler: ChangeHandler<T>): () => void;
}

/** A function was created or got a new version: `record` is its current version now. */
export interface FunctionDeployed {
  type: 'function.deployed';
  record: FunctionRecord;
}

/** A function was removed, with its history and its invoke keys. */
export interface FunctionRemoved {
  type: 'function.removed';
  name: string;
}

/** A secret's value was set or the secret was removed; `functions` use it in their current version. */
export interface SecretChanged {
  type: 'secret.changed';
  name: string;
  /** Names of the functions whose instances hold the old value, ordered by name. */
  functions: string[];
}

/** An invoke key of `function` was created or revoked. */
export interface KeysChanged {
  type: 'keys.changed';
  function: string;
}

/**
 * A trigger was created, updated, paused or resumed: `record` is its definition now. (A function's
 * triggers removed with it are told by `function.removed` alone.)
 */
export interface TriggerChanged {
  type: 'trigger.changed';
  record: TriggerRecord;
}

/** A trigger was removed. */
export interface TriggerRemoved {
  type: 'trigger.removed';
  name: string;
}

/** Every change the feed carries. */
export type ChangeEvent = FunctionDeployed | FunctionRemoved | SecretChanged | KeysChanged | TriggerChanged | TriggerRemoved;

/** The kinds of change, e.g. `function.deployed`. */
export type ChangeType = ChangeEvent['type'];

/** The event of one kind. */
export type ChangeOf<T extends ChangeType> = Extract<ChangeEvent, { type: T }>;

/** Reacts to one kind of change; may be async (the publisher waits for it). */
export type ChangeHandler<T extends ChangeType> = (event: ChangeOf<T>) => void | Promise<void>;
