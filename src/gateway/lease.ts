import type { Dispatcher } from 'undici';
import type { ReleaseOutcome } from '../scaling/function-instances.js';
import type { FunctionRecord } from '../store/types.js';

export type { ReleaseOutcome };

/**
 * A reserved slot of capacity on one instance, for one invocation. The invoker sends the request
 * through `dispatcher` and must call `release` exactly once.
 */
export interface InstanceLease {
  readonly instanceId: string;
  /** HTTP client bound to the instance (a unix socket locally, an address in a cluster). */
  readonly dispatcher: Dispatcher;
  /** True when this invocation waited for a new instance to start. */
  readonly coldStart: boolean;
  /** Milliseconds waited for capacity (including any instance start). */
  readonly waitMs: number;
  /** Milliseconds the instance took to start and load the handler (cold starts only, else 0). */
  readonly startMs: number;
  /** Why the instance ended, when it has and its provider can tell; undefined while it runs. */
  exitReason(): string | undefined;
  /** True when the instance ended by exceeding its memory limit (as far as its provider can tell). */
  outOfMemory(): boolean;
  /** Resolves once the instance has ended, or after `ms`. */
  exitedWithin(ms: number): Promise<void>;
  /** Gives the slot back. `timeout` and `crashed` recycle the instance. */
  release(outcome: ReleaseOutcome): void;
}

/** Capacity for invocations: what the invoker asks before forwarding. */
export interface Admission {
  /**
   * The hot path: a slot on an instance with spare capacity right now, or undefined (then call
   * `acquire`). Never starts anything, never waits, never throws for a full function.
   */
  tryAcquire(fn: FunctionRecord): InstanceLease | undefined;
  /**
   * Reserves capacity for one invocation of `fn`, starting an instance when none has room; a
   * newer version than the one running makes older instances drain. Rejects with a NimbusError
   * (FUNCTION_START_FAILED, FUNCTION_OVERLOADED, SHUTTING_DOWN) or when `signal` aborts.
   */
  acquire(fn: FunctionRecord, signal: AbortSignal): Promise<InstanceLease>;
}
