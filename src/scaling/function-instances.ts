import type { Clock } from '../core/clock.js';
import type { InstanceProvider } from '../providers/types.js';
import type { FunctionRecord } from '../store/types.js';
import { decide, INITIAL_SCALING_STATE, SCALING_DEFAULTS, type ScalingSettings, type ScalingState } from './autoscaler.js';
import { ConcurrencyWindow } from './concurrency-window.js';
import { ManagedInstance } from './managed-instance.js';

/** How an invocation ended, as far as its instance is concerned. */
export type ReleaseOutcome = 'ok' | 'timeout' | 'crashed';

/** What the instances of a function report to whoever admits work onto them. */
export interface InstanceEvents {
  /** Capacity may have appeared (an instance became ready, a slot was released, one ended). */
  onCapacity(): void;
  /** A start failed and no other instance of the current version is coming: waiters get `err`. */
  onNoCapacity(err: unknown): void;
  /** Told how each instance start ended (`err` undefined: it started). */
  onStart?(name: string, err: unknown): void;
}

/**
 * The instances of one function and the rules that size them: a slot goes to a ready instance of
 * the current version with spare capacity (the oldest first, so surplus instances go idle); a
 * queue of waiting invocations starts as many instances as it needs at once, up to
 * maxInstances (the fast path of a burst); each autoscaler tick sets the number of instances (it
 * keeps minInstances, adds capacity for sustained load, removes idle surplus slowly, and scales to
 * zero after the idle timeout); a new version drains the old instances; a timed-out or crashed
 * invocation recycles its instance.
 */
export class FunctionInstances {
  record: FunctionRecord;
  readonly instances = new Set<ManagedInstance>();
  private readonly window = new ConcurrencyWindow();
  private scaling: ScalingState = INITIAL_SCALING_STATE;
  /** The autoscaler's last decision. */
  desired = 0;
  /** Why, in a few words. */
  reason = 'no decision yet';

  constructor(
    record: FunctionRecord,
    private readonly provider: InstanceProvider,
    private readonly clock: Clock,
    private readonly events: InstanceEvents,
  ) {
    this.record = record;
  }

  /** A ready instance of the current version with a free slot, oldest first. */
  findCapacity(): ManagedInstance | undefined {
    for (const instance of this.instances) {
      if (instance.state === 'ready' && instance.record.version === this.record.version && instance.inflight < this.record.spec.concurrency) {
        return instance;
      }
    }
    return undefined;
  }

  /** Takes a newly deployed version as current: old instances finish what they have, then stop. */
  update(record: FunctionRecord): void {
    if (record.version <= this.record.version) return;
    this.record = record;
    for (const instance of this.instances) if (instance.record.version < record.version) void instance.drain();
  }

  /**
   * Every instance finishes what it has, then stops; new work (and the autoscaler, for
   * minInstances) starts fresh ones. Used when something an instance read at start changed.
   */
  recycle(): void {
    for (const instance of this.instances) void instance.drain();
    this.events.onCapacity();
  }

  /** One invocation ended on `instance`: frees its slot and applies the drain rules. */
  release(instance: ManagedInstance, outcome: ReleaseOutcome): void {
    instance.inflight--;
    instance.lastUsed = this.clock.now();
    if (outcome !== 'ok' && instance.state !== 'stopped') {
      // A timed-out handler may spin forever and a crashed one is gone: recycle the instance once
      // nothing else runs on it (other invocations on it keep their own deadlines).
      if (instance.inflight === 0) instance.kill();
      else void instance.drain();
    } else if (instance.state === 'draining' && instance.inflight === 0) {
      void instance.stop();
    }
    this.events.onCapacity();
  }

  /** Starts instances for `waiting` queued invocations, beyond those already starting. */
  startFor(waiting: number): void {
    const { concurrency, maxInstances } = this.record.spec;
    const { active, starting } = this.count();
    const needed = Math.ceil(waiting / concurrency) - starting;
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

  /** Invocations in flight on the instances. */
  inflight(): number {
    let inflight = 0;
    for (const instance of this.instances) inflight += instance.inflight;
    return inflight;
  }

  /** One autoscaler step: sample `demand` (in flight plus waiting), decide, and move toward it. */
  tick(now: number, demand: number): void {
    this.window.record(now, demand);
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
    const instance = new ManagedInstance(this.record, this.provider, this.clock);
    this.instances.add(instance);
    const forget = () => {
      this.instances.delete(instance);
      this.events.onCapacity();
    };
    instance.start().then(
      () => {
        this.events.onStart?.(this.record.spec.name, undefined);
        // Only a started instance that ends calls for a replacement; failed starts are handled below.
        if (instance.state === 'stopped') forget();
        else instance.onExit = forget;
        this.events.onCapacity();
      },
      (err: unknown) => {
        this.instances.delete(instance);
        this.events.onStart?.(this.record.spec.name, err);
        // Superseded while starting (a new version was deployed, which stopped it): the waiters
        // are served by the current version's instances, started for them if none are yet.
        if (instance.record.version !== this.record.version) return this.events.onCapacity();
        // Nothing else will bring capacity for this version: tell the waiters why.
        const hope = [...this.instances].some((i) => i.record.version === this.record.version && i.state !== 'draining' && i.state !== 'stopped');
        if (!hope) this.events.onNoCapacity(err);
      },
    );
  }

  /** Drains and stops every instance. */
  async drainAll(): Promise<void> {
    await Promise.all([...this.instances].map((instance) => instance.drain()));
  }

  /** Instances running (any state) and ready ones. */
  counts(): { instances: number; ready: number } {
    let ready = 0;
    for (const instance of this.instances) if (instance.state === 'ready') ready++;
    return { instances: this.instances.size, ready };
  }
}
