import type { Clock } from '../../core/clock.js';
import { ConcurrencyWindow } from '../../scaling/concurrency-window.js';
import { decide, INITIAL_SCALING_STATE, SCALING_DEFAULTS, type ScalingSettings, type ScalingState } from '../../scaling/autoscaler.js';
import { NimbusError } from '../../core/errors.js';
import { formatDuration } from '../../core/spec.js';
import type { FunctionRecord } from '../../store/types.js';
import type { FunctionStatus, InstanceLease, LeaseOutcome } from '../types.js';
import type { LocalInstance } from './instance.js';

/** A request waiting for capacity, served in arrival order. */
interface Waiter {
  /** On the clock's monotonic scale, like every duration here. */
  enqueuedAt: number;
  resolve(lease: InstanceLease): void;
  reject(err: unknown): void;
  cleanup(): void;
}

/** What a pool needs from its backend. */
export interface PoolDeps {
  clock: Clock;
  /** Creates (does not start) an instance of this record. */
  createInstance(record: FunctionRecord): LocalInstance;
  /** Told how each instance start ended (`err` undefined: it started). */
  onStart?(name: string, err: unknown): void;
  /** Most requests allowed to wait for capacity. */
  maxQueue: number;
  /**
   * Longest a request waits for capacity before FUNCTION_OVERLOADED. The caller's signal ends the
   * wait sooner at the invocation's deadline (the gateway answers FUNCTION_OVERLOADED then too).
   */
  maxQueueWaitMs: number;
}

/**
 * The instances of one function and the queue of requests waiting for them. Requests take a slot
 * on a ready instance of the current version with spare capacity (filling the oldest first, so
 * surplus instances go idle); when there is none they wait, and the pool starts as many instances
 * as the queue needs at once, up to maxInstances (the fast path of a burst). Each tick the
 * autoscaler's decision sets the number of instances: it keeps minInstances, adds capacity for
 * sustained load, removes idle surplus slowly, and scales to zero after the idle timeout.
 */
export class FunctionPool {
  record: FunctionRecord;
  readonly instances = new Set<LocalInstance>();
  private readonly waiters: Waiter[] = [];
  private readonly window = new ConcurrencyWindow();
  private scaling: ScalingState = INITIAL_SCALING_STATE;
  /** The autoscaler's last decision. */
  desired = 0;
  /** Why, in a few words. */
  reason = 'no decision yet';

  constructor(
    record: FunctionRecord,
    private readonly deps: PoolDeps,
  ) {
    this.record = record;
  }

  /** A slot right now if one is free and nobody is waiting before us; undefined otherwise. */
  tryAcquire(record: FunctionRecord): InstanceLease | undefined {
    if (record.version > this.record.version) this.upgrade(record);
    if (this.waiters.length > 0) return undefined;
    const instance = this.findCapacity();
    if (!instance) return undefined;
    const now = this.deps.clock.monotonic();
    return this.lease(instance, now, now);
  }

  /** Reserves a slot for one invocation, waiting in line (and starting instances) when needed. */
  acquire(record: FunctionRecord, signal: AbortSignal): Promise<InstanceLease> {
    const ready = this.tryAcquire(record);
    if (ready) return Promise.resolve(ready);
    const now = this.deps.clock.monotonic();
    if (this.waiters.length >= this.deps.maxQueue) {
      return Promise.reject(
        new NimbusError('FUNCTION_OVERLOADED', `"${this.record.spec.name}" has ${this.waiters.length} requests waiting already; retry shortly.`, {
          headers: { 'retry-after': '1' },
        }),
      );
    }
    return new Promise<InstanceLease>((resolve, reject) => {
      const leave = (reason: unknown) => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        waiter.cleanup();
        reject(reason);
      };
      const onAbort = () => leave(signal.reason);
      const cancelTimer = this.deps.clock.after(this.deps.maxQueueWaitMs, () =>
        leave(
          new NimbusError('FUNCTION_OVERLOADED', `"${this.record.spec.name}" had no free capacity within the platform's wait limit of ${formatDuration(this.deps.maxQueueWaitMs)} (nimbus up --max-queue-wait); retry shortly.`, {
            headers: { 'retry-after': '1' },
          }),
        ),
      );
      const waiter: Waiter = {
        enqueuedAt: now,
        resolve,
        reject,
        cleanup: () => {
          signal.removeEventListener('abort', onAbort);
          cancelTimer();
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Takes a newly deployed version as current (old instances drain at once). */
  update(record: FunctionRecord): void {
    if (record.version > this.record.version) this.upgrade(record);
  }

  /**
   * Every instance finishes what it has, then stops; new requests (and the autoscaler, for
   * minInstances) start fresh ones. Used when something an instance read at start changed.
   */
  recycle(): void {
    for (const instance of this.instances) void instance.drain();
    this.pump();
  }

  /** A newer version was deployed: old instances finish what they have, then stop. */
  private upgrade(record: FunctionRecord): void {
    this.record = record;
    for (const instance of this.instances) if (instance.record.version < record.version) void instance.drain();
  }

  private findCapacity(): LocalInstance | undefined {
    for (const instance of this.instances) {
      if (instance.state === 'ready' && instance.record.version === this.record.version && instance.inflight < this.record.spec.concurrency) {
        return instance;
      }
    }
    return undefined;
  }

  private lease(instance: LocalInstance, enqueuedAt: number, now: number): InstanceLease {
    instance.inflight++;
    const coldStart = instance.readyAt >= enqueuedAt && now > enqueuedAt;
    let released = false;
    return {
      instanceId: instance.id,
      dispatcher: instance.dispatcher!,
      coldStart,
      waitMs: now - enqueuedAt,
      startMs: coldStart ? instance.startMs : 0,
      exitReason: () => instance.exitReason,
      outOfMemory: () => instance.outOfMemory,
      exitedWithin: (ms: number) => instance.exitedWithin(ms),
      release: (outcome: LeaseOutcome) => {
        if (released) return;
        released = true;
        this.release(instance, outcome);
      },
    };
  }

  private release(instance: LocalInstance, outcome: LeaseOutcome): void {
    instance.inflight--;
    instance.lastUsed = this.deps.clock.now();
    if (outcome !== 'ok' && instance.state !== 'stopped') {
      // A timed-out handler may spin forever and a crashed one is gone: recycle the instance once
      // nothing else runs on it (other invocations on it keep their own deadlines).
      if (instance.inflight === 0) instance.kill();
      else void instance.drain();
    } else if (instance.state === 'draining' && instance.inflight === 0) {
      void instance.stop();
    }
    this.pump();
  }

  /** Hands free capacity to waiters in order, and starts instances for those still waiting. */
  pump(): void {
    while (this.waiters.length > 0) {
      const instance = this.findCapacity();
      if (!instance) break;
      const waiter = this.waiters.shift()!;
      waiter.cleanup();
      waiter.resolve(this.lease(instance, waiter.enqueuedAt, this.deps.clock.monotonic()));
    }
    if (this.waiters.length === 0) return;
    const { concurrency, maxInstances } = this.record.spec;
    const { active, starting } = this.count();
    const needed = Math.ceil(this.waiters.length / concurrency) - starting;
    const toStart = Math.min(needed, maxInstances - active);
    for (let i = 0; i < toStart; i++) this.startInstance();
  }

  /** Instances of the current version that serve or will serve: ready or starting. */
  private count(): { active: number; starting: number } {
    let active = 0;
    let starting = 0;
    for (const instance of this.instances) {
      if (instance.record.version !== this.record.version || instance.state === 'draining' || instance.state === 'stopped') continue;
      active++;
      if (instance.state === 'starting') starting++;
    }
    return { active, starting };
  }

  /** Requests in flight plus requests waiting: the demand the autoscaler sizes for. */
  private demand(): number {
    let inflight = this.waiters.length;
    for (const instance of this.instances) inflight += instance.inflight;
    return inflight;
  }

  /** One autoscaler step: sample demand, decide, and move the instance count toward the decision. */
  tick(now: number): void {
    this.window.record(now, this.demand());
    const { spec } = this.record;
    // The windows never outlast the idle timeout: an idle function stops when its timeout says.
    const stableWindowMs = Math.min(SCALING_DEFAULTS.stableWindowMs, spec.idleTimeoutMs);
    const settings: ScalingSettings = {
      ...SCALING_DEFAULTS,
      stableWindowMs,
      panicWindowMs: Math.min(SCALING_DEFAULTS.panicWindowMs, stableWindowMs),
      concurrency: spec.concurrency,
      minInstances: spec.minInstances ?? 0,
      maxInstances: spec.maxInstances,
      idleTimeoutMs: spec.idleTimeoutMs,
    };
    const decision = decide({ settings, window: this.window, current: this.count().active, state: this.scaling, now });
    this.scaling = decision.state;
    this.desired = decision.desired;
    this.reason = decision.reason;
    this.scaleTo(decision.desired);
  }

  /** Starts instances up to `desired`, or stops idle surplus ones (least recently used first). */
  private scaleTo(desired: number): void {
    const { active } = this.count();
    if (active < desired) {
      for (let i = active; i < desired; i++) this.startInstance();
      return;
    }
    const idle = [...this.instances]
      .filter((i) => i.record.version === this.record.version && i.state === 'ready' && i.inflight === 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const instance of idle.slice(0, active - desired)) void instance.stop();
  }

  private startInstance(): void {
    const instance = this.deps.createInstance(this.record);
    this.instances.add(instance);
    const forget = () => {
      this.instances.delete(instance);
      this.pump();
    };
    instance.start().then(
      () => {
        this.deps.onStart?.(this.record.spec.name, undefined);
        // Only a started instance that dies calls for a replacement; failed starts are handled below.
        if (instance.state === 'stopped') forget();
        else instance.onExit = forget;
        this.pump();
      },
      (err: unknown) => {
        this.instances.delete(instance);
        this.deps.onStart?.(this.record.spec.name, err);
        // Superseded while starting (a new version was deployed, which stopped it): the waiters
        // are served by the current version's instances, started here if none are yet.
        if (instance.record.version !== this.record.version) return this.pump();
        // Nothing else will bring capacity for this version: tell the waiters why.
        const hope = [...this.instances].some((i) => i.record.version === this.record.version && i.state !== 'draining' && i.state !== 'stopped');
        if (!hope) this.failWaiters(err);
      },
    );
  }

  /** Rejects every waiting request. */
  failWaiters(err: unknown): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(err);
    }
  }

  /** Drains and stops every instance. */
  async drainAll(): Promise<void> {
    await Promise.all([...this.instances].map((instance) => instance.drain()));
  }

  /** Nothing runs, nothing waits, and nothing has to be kept running. */
  get idle(): boolean {
    return this.instances.size === 0 && this.waiters.length === 0 && (this.record.spec.minInstances ?? 0) === 0;
  }

  status(): FunctionStatus {
    let inflight = 0;
    for (const instance of this.instances) inflight += instance.inflight;
    let ready = 0;
    for (const instance of this.instances) if (instance.state === 'ready') ready++;
    return { instances: this.instances.size, ready, inflight, queued: this.waiters.length, desired: this.desired };
  }
}
