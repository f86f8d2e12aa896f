import type { Dispatcher } from 'undici';
import type { FunctionRecord } from '../store/types.js';

/** How an invocation ended, as far as the instance is concerned. */
export type LeaseOutcome = 'ok' | 'timeout' | 'crashed';

/**
 * A reserved slot of capacity on one instance, for one invocation. The gateway sends the request
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
  /** Why the instance ended, when it has (for crash reports); undefined while it runs. */
  exitReason(): string | undefined;
  /** True when the instance ended by exceeding its memory limit. */
  outOfMemory(): boolean;
  /** Resolves once the instance's process has exited, or after `ms`. */
  exitedWithin(ms: number): Promise<void>;
  /** Gives the slot back. `timeout` and `crashed` recycle the instance. */
  release(outcome: LeaseOutcome): void;
}

/** What a backend reports about a function. */
export interface FunctionStatus {
  /** Running instances of any version (starting, ready or draining). */
  instances: number;
  /** Of those, instances serving the current version that are ready for requests. */
  ready: number;
  /** Requests in flight on them. */
  inflight: number;
  /** Requests waiting for capacity. */
  queued: number;
  /** Instances the autoscaler wants (of the current version). */
  desired: number;
  /** The last failed instance start of the function, until an instance starts again. */
  lastStartError?: { message: string; at: number };
}

/**
 * Runs function instances. Backends only provide instances; invocation mechanics (deadlines,
 * streaming, error mapping) live once in the gateway. Implementations: local processes
 * (`LocalBackend`), later Kubernetes.
 */
export interface Backend {
  /**
   * Reserves capacity for one invocation of `fn`, starting an instance when none has room. A newer
   * version than the one running makes older instances drain. Rejects with a NimbusError
   * (FUNCTION_START_FAILED, FUNCTION_OVERLOADED, SHUTTING_DOWN) or when `signal` aborts.
   */
  acquire(fn: FunctionRecord, signal: AbortSignal): Promise<InstanceLease>;
  /**
   * The hot path: a slot on an instance with spare capacity right now, or undefined (then call
   * `acquire`). Never starts anything, never waits, never throws for a full function.
   */
  tryAcquire(fn: FunctionRecord): InstanceLease | undefined;
  /**
   * A function or a new version of it was deployed (or found at start-up): prepare for it, i.e.
   * drain instances of older versions and keep its minimum number of instances running.
   */
  configure(fn: FunctionRecord): void;
  /**
   * Optional: replaces the running instances of a function without a new version (e.g. a secret
   * it uses changed). They finish in-flight requests and stop; new requests get new instances.
   */
  recycle?(name: string): void;
  status(name: string): FunctionStatus;
  /**
   * Optional: starts one short-lived instance of `fn` (not yet deployed), loads its handler and
   * stops it. Rejects as a start would (FUNCTION_START_FAILED, with `details.loadError` the
   * shim's code when the handler failed to load), so a deploy can refuse code that cannot run.
   */
  check?(fn: FunctionRecord): Promise<void>;
  /** Drains and stops every instance of the function. */
  remove(name: string): Promise<void>;
  /** Drains and stops everything; later acquires fail with SHUTTING_DOWN. */
  shutdown(): Promise<void>;
}
