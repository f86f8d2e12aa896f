import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { formatDuration } from '../core/spec.js';
import type { FunctionInstances } from '../scaling/function-instances.js';
import type { ManagedInstance } from '../scaling/managed-instance.js';
import type { FunctionRecord } from '../store/types.js';
import type { InstanceLease, ReleaseOutcome } from './lease.js';

/** An invocation waiting for capacity, served in arrival order. */
interface Waiter {
  /** On the clock's monotonic scale, like every duration here. */
  enqueuedAt: number;
  resolve(lease: InstanceLease): void;
  reject(err: unknown): void;
  cleanup(): void;
}

/** Bounds of the wait for capacity. */
export interface QueueBounds {
  /** Most invocations allowed to wait per function. */
  maxQueue: number;
  /**
   * Longest an invocation waits before FUNCTION_OVERLOADED. The caller's signal ends the wait
   * sooner at the invocation's deadline (the invoker answers FUNCTION_OVERLOADED then too).
   */
  maxQueueWaitMs: number;
}

/**
 * Admission for one function: invocations take a free slot at once, or wait in line (bounded in
 * length and time) while the function's instances start as many instances as the line needs.
 */
export class AdmissionQueue {
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly instances: FunctionInstances,
    private readonly clock: Clock,
    private readonly bounds: QueueBounds,
  ) {}

  /** Invocations waiting for capacity. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** A slot right now if one is free and nobody is waiting before us; undefined otherwise. */
  tryAcquire(record: FunctionRecord): InstanceLease | undefined {
    if (record.version > this.instances.record.version) this.instances.update(record);
    if (this.waiters.length > 0) return undefined;
    const instance = this.instances.findCapacity();
    if (!instance) return undefined;
    const now = this.clock.monotonic();
    return this.lease(instance, now, now);
  }

  /** Reserves a slot for one invocation, waiting in line (and starting instances) when needed. */
  acquire(record: FunctionRecord, signal: AbortSignal): Promise<InstanceLease> {
    const ready = this.tryAcquire(record);
    if (ready) return Promise.resolve(ready);
    const name = this.instances.record.spec.name;
    const now = this.clock.monotonic();
    if (this.waiters.length >= this.bounds.maxQueue) {
      return Promise.reject(
        new NimbusError('FUNCTION_OVERLOADED', `"${name}" has ${this.waiters.length} requests waiting already; retry shortly.`, {
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
      const cancelTimer = this.clock.after(this.bounds.maxQueueWaitMs, () =>
        leave(
          new NimbusError('FUNCTION_OVERLOADED', `"${name}" had no free capacity within the platform's wait limit of ${formatDuration(this.bounds.maxQueueWaitMs)} (nimbus up --max-queue-wait); retry shortly.`, {
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

  /** Hands free capacity to waiters in order, and starts instances for those still waiting. */
  pump(): void {
    while (this.waiters.length > 0) {
      const instance = this.instances.findCapacity();
      if (!instance) break;
      const waiter = this.waiters.shift()!;
      waiter.cleanup();
      waiter.resolve(this.lease(instance, waiter.enqueuedAt, this.clock.monotonic()));
    }
    if (this.waiters.length > 0) this.instances.startFor(this.waiters.length);
  }

  /** Rejects every waiting invocation. */
  failWaiters(err: unknown): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(err);
    }
  }

  private lease(instance: ManagedInstance, enqueuedAt: number, now: number): InstanceLease {
    instance.inflight++;
    const coldStart = instance.readyAt >= enqueuedAt && now > enqueuedAt;
    let released = false;
    const provided = instance.provided!;
    return {
      instanceId: provided.id,
      dispatcher: provided.dispatcher,
      coldStart,
      waitMs: now - enqueuedAt,
      startMs: coldStart ? instance.startMs : 0,
      exitReason: () => provided.exitReason?.(),
      outOfMemory: () => provided.outOfMemory?.() ?? false,
      exitedWithin: (ms: number) => instance.exitedWithin(ms),
      release: (outcome: ReleaseOutcome) => {
        if (released) return;
        released = true;
        this.instances.release(instance, outcome);
      },
    };
  }
}
