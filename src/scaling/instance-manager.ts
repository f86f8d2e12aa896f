import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { AdmissionQueue, type QueueBounds } from '../gateway/admission-queue.js';
import type { Admission, InstanceLease } from '../gateway/lease.js';
import type { InstanceProvider } from '../providers/types.js';
import type { FunctionRecord } from '../store/types.js';
import { FunctionInstances } from './function-instances.js';

/** What the instance manager reports about a function. */
export interface FunctionStatus {
  /** Running instances of any version (starting, ready or draining). */
  instances: number;
  /** Of those, instances ready for requests. */
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

/** Settings of the instance manager. */
export interface InstanceManagerOptions extends QueueBounds {
  provider: InstanceProvider;
  clock: Clock;
  /** How often the autoscaler decides, in ms. */
  scaleIntervalMs: number;
}

/**
 * Admission and scaling for every function, above any instance provider: one admission queue and
 * one set of instances per function in use, an autoscaler round every `scaleIntervalMs`, and the
 * control plane's hooks (a new version, a recycle, a removal). Functions with nothing running,
 * nothing waiting and no minimum are forgotten until their next invocation.
 */
export class InstanceManager implements Admission {
  private readonly functions = new Map<string, AdmissionQueue>();
  /** The last failed start per function, until one succeeds (`nimbus get` shows it). */
  private readonly startErrors = new Map<string, { message: string; at: number }>();
  private readonly stopScaling: () => void;
  private shuttingDown = false;

  constructor(private readonly options: InstanceManagerOptions) {
    this.stopScaling = options.clock.every(options.scaleIntervalMs, () => this.tick());
  }

  tryAcquire(fn: FunctionRecord): InstanceLease | undefined {
    return this.shuttingDown ? undefined : this.functions.get(fn.spec.name)?.tryAcquire(fn);
  }

  acquire(fn: FunctionRecord, signal: AbortSignal): Promise<InstanceLease> {
    if (this.shuttingDown) return Promise.reject(new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down; retry against another instance or later.'));
    return this.queueOf(fn).acquire(fn, signal);
  }

  /**
   * A function or a new version of it was deployed (or found at start-up): older instances drain,
   * and a function with a minimum gets its instances now rather than at its first invocation.
   */
  configure(fn: FunctionRecord): void {
    if (this.shuttingDown) return;
    const queue = this.functions.get(fn.spec.name);
    if (queue) queue.instances.update(fn);
    else if ((fn.spec.minInstances ?? 0) > 0) this.queueOf(fn).instances.tick(this.options.clock.now(), 0);
  }

  /** Replaces the function's running instances: they drain, and new work starts fresh ones. */
  recycle(name: string): void {
    this.functions.get(name)?.instances.recycle();
  }

  /** The function was removed: its waiters fail, its instances drain and stop. */
  async remove(name: string): Promise<void> {
    const queue = this.functions.get(name);
    this.startErrors.delete(name);
    if (!queue) return;
    this.functions.delete(name);
    queue.failWaiters(new NimbusError('FUNCTION_NOT_FOUND', `Function "${name}" was removed.`));
    await queue.instances.drainAll();
  }

  /** Starts `fn` once in a short-lived instance (see InstanceProvider.check); no-op without the capability. */
  async check(fn: FunctionRecord): Promise<void> {
    if (!this.options.provider.check) return;
    try {
      await this.options.provider.check(fn);
    } catch (err) {
      this.noteStart(fn.spec.name, err);
      throw err;
    }
    this.noteStart(fn.spec.name, undefined);
  }

  status(name: string): FunctionStatus {
    const queue = this.functions.get(name);
    const status: FunctionStatus = queue
      ? { ...queue.instances.counts(), inflight: queue.instances.inflight(), queued: queue.waiting, desired: queue.instances.desired }
      : { instances: 0, ready: 0, inflight: 0, queued: 0, desired: 0 };
    const failed = this.startErrors.get(name);
    if (failed) status.lastStartError = failed;
    return status;
  }

  /** The instances of a function as the manager sees them (diagnostics and tests). */
  instances(name: string): Array<{ id: string | undefined; version: number; state: string; inflight: number }> {
    const queue = this.functions.get(name);
    if (!queue) return [];
    return [...queue.instances.instances].map((i) => ({ id: i.provided?.id, version: i.record.version, state: i.state, inflight: i.inflight }));
  }

  /** Stops scaling, fails every waiter, drains every instance, then shuts the provider down. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.stopScaling();
    const queues = [...this.functions.values()];
    this.functions.clear();
    for (const queue of queues) queue.failWaiters(new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down.'));
    await Promise.all(queues.map((queue) => queue.instances.drainAll()));
    await this.options.provider.shutdown();
  }

  private queueOf(fn: FunctionRecord): AdmissionQueue {
    let queue = this.functions.get(fn.spec.name);
    if (!queue) {
      const { clock, provider } = this.options;
      let created: AdmissionQueue | undefined;
      const instances = new FunctionInstances(fn, provider, clock, {
        onCapacity: () => created?.pump(),
        onNoCapacity: (err) => created?.failWaiters(err),
        onStart: (name, err) => this.noteStart(name, err),
      });
      created = new AdmissionQueue(instances, clock, this.options);
      queue = created;
      this.functions.set(fn.spec.name, queue);
    }
    return queue;
  }

  /** Remembers the outcome of a function's latest instance start, for status(). */
  private noteStart(name: string, err: unknown): void {
    if (err === undefined) this.startErrors.delete(name);
    else this.startErrors.set(name, { message: (err as Error).message, at: this.options.clock.now() });
  }

  /** One autoscaling round over every function. */
  private tick(): void {
    const now = this.options.clock.now();
    for (const [name, queue] of this.functions) {
      const { instances } = queue;
      instances.tick(now, queue.waiting + instances.inflight());
      const idle = instances.instances.size === 0 && queue.waiting === 0 && (instances.record.spec.minInstances ?? 0) === 0;
      if (idle && instances.desired === 0) this.functions.delete(name);
    }
  }
}
