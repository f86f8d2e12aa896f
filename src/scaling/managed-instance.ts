import type { Clock } from '../core/clock.js';
import type { InstanceProvider, ProvidedInstance } from '../providers/types.js';
import type { FunctionRecord } from '../store/types.js';

export type InstanceState = 'starting' | 'ready' | 'draining' | 'stopped';

/**
 * One instance as the scaler sees it: the provider's instance plus what decides its work
 * (state, invocations in flight, last use). Starting, draining and stopping follow one set of
 * rules whatever the provider: a draining instance takes no new work and stops once the last
 * invocation on it is released; one drained while it starts never serves.
 */
export class ManagedInstance {
  state: InstanceState = 'starting';
  /** Invocations currently using this instance. */
  inflight = 0;
  /** Epoch ms of the last release (or of readiness). */
  lastUsed = 0;
  /** When it became ready, on the clock's monotonic scale; Infinity until then. */
  readyAt = Number.POSITIVE_INFINITY;
  /** The provider's instance, once started. */
  provided: ProvidedInstance | undefined;
  /** Called once when a started instance ends, for whatever reason. */
  onExit: (instance: ManagedInstance) => void = () => undefined;

  /** Settles when start() has (either way); a stop asked for meanwhile waits for it. */
  private startSettled: Promise<unknown> | undefined;
  private drained: Promise<void> | undefined;

  constructor(
    readonly record: FunctionRecord,
    private readonly provider: InstanceProvider,
    private readonly clock: Clock,
  ) {}

  /** Milliseconds the provider took to start it (0 until started). */
  get startMs(): number {
    return this.provided?.startMs ?? 0;
  }

  /** Asks the provider for an instance. Rejects as the provider does (FUNCTION_START_FAILED, …). */
  start(): Promise<void> {
    const starting = this.startProvided();
    this.startSettled = starting.catch(() => undefined);
    return starting;
  }

  private async startProvided(): Promise<void> {
    let provided: ProvidedInstance;
    try {
      provided = await this.provider.start(this.record);
    } catch (err) {
      this.state = 'stopped';
      throw err;
    }
    this.provided = provided;
    if (this.state !== 'starting') {
      // Drained while starting (a newer version arrived, or a shutdown): never serve.
      await provided.stop();
      this.state = 'stopped';
      return;
    }
    void provided.exited.then(() => {
      this.state = 'stopped';
      this.onExit(this);
    });
    this.state = 'ready';
    this.lastUsed = this.clock.now();
    this.readyAt = this.clock.monotonic();
  }

  /** Stops taking new work; stops once the last in-flight invocation is released. */
  drain(): Promise<void> {
    if (this.state === 'starting' || this.state === 'ready') this.state = 'draining';
    if (this.inflight === 0) return this.stop();
    this.drained ??= this.provided ? this.provided.exited.then(() => undefined) : Promise.resolve();
    return this.drained;
  }

  /** Graceful stop; resolves once the instance has ended. */
  stop(): Promise<void> {
    if (this.state !== 'stopped') this.state = 'draining';
    // Still starting: the provider's instance does not exist yet, but will, and is stopped as
    // soon as it does (it sees the draining state). Waiting for that keeps a shutdown from
    // tearing down what a start is still setting up.
    if (!this.provided && this.startSettled) return this.startSettled.then(() => this.provided?.stop());
    return this.provided?.stop() ?? Promise.resolve();
  }

  /** Immediate stop (timeouts, crashes). Takes no new work from now on, before the exit is seen. */
  kill(): void {
    if (this.state === 'starting' || this.state === 'ready') this.state = 'draining';
    this.provided?.kill();
  }

  /** Resolves once the instance has ended, or after `ms` (whichever is first). */
  async exitedWithin(ms: number): Promise<void> {
    if (!this.provided) return;
    let cancel: (() => void) | undefined;
    await Promise.race([this.provided.exited, new Promise<void>((resolve) => (cancel = this.clock.after(ms, resolve)))]);
    cancel?.();
  }
}
