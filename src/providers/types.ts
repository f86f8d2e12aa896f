import type { Dispatcher } from 'undici';
import type { FunctionRecord } from '../store/types.js';

/**
 * One instance of one function version, started by a provider and ready: its handler is loaded
 * and it answers the runtime protocol (docs/runtime-protocol.md) through `dispatcher`.
 * What runs on it, how many at once and when it drains are decided above the provider.
 */
export interface ProvidedInstance {
  readonly id: string;
  /** HTTP client bound to the instance (a unix socket locally, an address in a cluster). */
  readonly dispatcher: Dispatcher;
  /** Milliseconds from asking for the instance to its handler being loaded. */
  readonly startMs: number;
  /** Resolves once the instance has ended, whatever ended it (stop, kill, crash, limit). */
  readonly exited: Promise<unknown>;
  /** Graceful stop: the instance finishes what it serves, then ends (forcibly after a grace). */
  stop(): Promise<void>;
  /** Ends it now (a timed-out or crashed invocation). */
  kill(): void;
  /** Capability: why it ended, in words ("was killed by SIGKILL"); undefined while it runs. */
  exitReason?(): string | undefined;
  /** Capability: true when it ended by exceeding its memory limit. */
  outOfMemory?(): boolean;
  /** Capability: the operating-system process id (local instances). */
  readonly pid?: number | undefined;
}

/**
 * Starts and stops function instances: local processes in a sandbox (`LocalProvider`), later
 * Kubernetes pods. Admission, scaling, deadlines, forwarding and error mapping are written once
 * above it. Every provider passes test/providers/provider-contract.ts.
 */
export interface InstanceProvider {
  /**
   * Starts an instance of this function version and resolves when it is ready. Rejects with a
   * NimbusError: FUNCTION_START_FAILED (`details.loadError` the shim's code when the handler
   * failed to load), SECRET_DECRYPT_FAILED, or SHUTTING_DOWN once shutdown began.
   */
  start(fn: FunctionRecord): Promise<ProvidedInstance>;
  /**
   * Optional: starts one short-lived instance of `fn` (not yet deployed), loads its handler and
   * stops it; rejects as `start` would, so a deploy can refuse code that cannot run.
   */
  check?(fn: FunctionRecord): Promise<void>;
  /** The instances running now (started and not yet ended), of one function or of all. */
  list(name?: string): ProvidedInstance[];
  /** Stops every instance (waiting for starts under way) and releases what the provider holds. */
  shutdown(): Promise<void>;
}
