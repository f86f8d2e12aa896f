/**
 * Triggers as the store keeps them: what the user asked for (a definition), the runtime status the
 * trigger manager reports, and each trigger's small durable memory (`SourceState`, key → JSON).
 * Times are epoch milliseconds.
 */

/** Whether the user wants the trigger's source running. */
export type TriggerDesiredState = 'active' | 'paused';

/** What a trigger's source last reported (a paused trigger's status is not consulted). */
export interface TriggerStatus {
  /**
   * `starting`: its source was (re)started and has not said yet that it consumes; `active`: it
   * consumes; `failing`: it cannot (see `error`).
   */
  state: 'starting' | 'active' | 'failing';
  /** Why it is failing; undefined otherwise. */
  error?: string | undefined;
  /** When the source entered this state (or the definition last changed). */
  since: number;
}

/** A trigger as the user defines it. `settings` are already validated by the kind's schema. */
export interface TriggerDefinition {
  /** A DNS label, unique on the platform. */
  name: string;
  /** The target function; the trigger is removed with it. */
  function: string;
  /** The kind of source (`cron`, `nats`, …). */
  type: string;
  /** The kind's settings (JSON). */
  settings: unknown;
  state: TriggerDesiredState;
}

/** A stored trigger. */
export interface TriggerRecord extends TriggerDefinition {
  createdAt: number;
  updatedAt: number;
  status: TriggerStatus;
}

/**
 * Triggers, their status and their sources' state. Records are copies. A function's triggers
 * are removed with it (`FunctionRepository.deleteFunction`), their status and state with them.
 * Every implementation passes test/store/trigger-contract.ts.
 */
export interface TriggerRepository {
  /**
   * Stores a new trigger (status `active` since `now`); undefined when the name is taken.
   * @throws NimbusError FUNCTION_NOT_FOUND when its function does not exist.
   */
  createTrigger(definition: TriggerDefinition, now: number): Promise<TriggerRecord | undefined>;
  /**
   * Creates the trigger or replaces its definition (keeping `createdAt`), atomically. The status
   * starts again as `active` since `now`: the changed trigger's source reports afresh. The source
   * state is kept unless the type changed (another kind's memory would mean nothing to it).
   * @throws NimbusError FUNCTION_NOT_FOUND when its function does not exist.
   */
  putTrigger(definition: TriggerDefinition, now: number): Promise<{ record: TriggerRecord; created: boolean }>;
  getTrigger(name: string): Promise<TriggerRecord | undefined>;
  /** All triggers (or a function's), ordered by name. */
  listTriggers(filter?: { function?: string }): Promise<TriggerRecord[]>;
  /** Removes the trigger, its status and its state; false if there was none. */
  deleteTrigger(name: string): Promise<boolean>;
  /** Records what the trigger's source reported; false when the trigger no longer exists. */
  setStatus(name: string, status: TriggerStatus): Promise<boolean>;
  /** A value of the trigger's source state; undefined when unset. */
  getState(name: string, key: string): Promise<unknown>;
  /** Sets a value of the trigger's source state (JSON); false (nothing stored) when the trigger no longer exists. */
  setState(name: string, key: string, value: unknown): Promise<boolean>;
}
