import type { Clock } from '../../core/clock.js';
import { NimbusError } from '../../core/errors.js';
import type { FunctionRecord } from '../../store/types.js';
import type { FunctionStatus, InstanceLease, LeaseOutcome } from '../types.js';
import type { LocalInstance } from './instance.js';

/** A request waiting for capacity, served in arrival order. */
interface Waiter {
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
  /** Most requests allowed to wait for capacity. */
  maxQueue: number;
}

/**
 * The instances of one function and the queue of requests waiting for them. Requests take a slot
 * on a ready instance of the current version with spare capacity (filling the oldest first, so
 * surplus instances go idle and are reaped); when there is none they wait, and the pool starts as
 * many instances as the queue needs, up to maxInstances.
 */
export class FunctionPool {
  record: FunctionRecord;
  readonly instances = new Set<LocalInstance>();
  private readonly waiters: Waiter[] = [];

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
    const now = this.deps.clock.now();
    return this.lease(instance, now, now);
  }

  /** Reserves a slot for one invocation, waiting in line (and starting instances) when needed. */
  acquire(record: FunctionRecord, signal: AbortSignal): Promise<InstanceLease> {
    const ready = this.tryAcquire(record);
    if (ready) return Promise.resolve(ready);
    const now = this.deps.clock.now();
    if (this.waiters.length >= this.deps.maxQueue) {
      return Promise.reject(
        new NimbusError('FUNCTION_OVERLOADED', `"${this.record.spec.name}" has ${this.waiters.length} requests waiting already; retry shortly.`, {
          headers: { 'retry-after': '1' },
        }),
      );
    }
    return new Promise<InstanceLease>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = { enqueuedAt: now, resolve, reject, cleanup: () => signal.removeEventListener('abort', onAbort) };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
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
      waiter.resolve(this.lease(instance, waiter.enqueuedAt, this.deps.clock.now()));
    }
    if (this.waiters.length === 0) return;
    const { concurrency, maxInstances } = this.record.spec;
    let starting = 0;
    let active = 0;
    for (const instance of this.instances) {
      if (instance.record.version !== this.record.version || instance.state === 'draining' || instance.state === 'stopped') continue;
      active++;
      if (instance.state === 'starting') starting++;
    }
    const needed = Math.ceil(this.waiters.length / concurrency) - starting;
    const toStart = Math.min(needed, maxInstances - active);
    for (let i = 0; i < toStart; i++) this.startInstance();
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
        // Only a started instance that dies calls for a replacement; failed starts are handled below.
        if (instance.state === 'stopped') forget();
        else instance.onExit = forget;
        this.pump();
      },
      (err: unknown) => {
        this.instances.delete(instance);
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

  /** Stops instances idle for longer than the idle timeout (scale to zero). */
  reapIdle(now: number): void {
    for (const instance of this.instances) {
      const idleTimeout = instance.record.spec.idleTimeoutMs;
      if (instance.state === 'ready' && instance.inflight === 0 && now - instance.lastUsed >= idleTimeout) void instance.stop();
    }
  }

  /** Drains and stops every instance. */
  async drainAll(): Promise<void> {
    await Promise.all([...this.instances].map((instance) => instance.drain()));
  }

  get idle(): boolean {
    return this.instances.size === 0 && this.waiters.length === 0;
  }

  status(): FunctionStatus {
    let inflight = 0;
    for (const instance of this.instances) inflight += instance.inflight;
    return { instances: this.instances.size, inflight, queued: this.waiters.length };
  }
}
