import type { Clock } from '../../core/clock.js';
import type { ProcessProfile, RuntimeProcess } from './runtime-process.js';

/** See {@link WarmPoolOptions.refillDelayMs}. */
const DEFAULT_REFILL_DELAY_MS = 50;

/** Settings of the warm pool. */
export interface WarmPoolOptions {
  /** Ready spares kept per profile (runtime, memory, network). 0 turns the pool off. @default 1 */
  size: number;
  /** Profiles kept warm from the start, used or not. */
  always: ProcessProfile[];
  /** Spares of other profiles are retired after this long without a take. @default 10 min */
  retireAfterMs: number;
  /**
   * Pause between a take and the refill's spawn. Starting a process costs tens of milliseconds of
   * CPU and blocks the event loop while forking; deferred, it does not compete with the
   * specialisation and first request of the cold start that took the spare. @default 50
   */
  refillDelayMs?: number;
}

interface Slot {
  key: string;
  profile: ProcessProfile;
  spares: RuntimeProcess[];
  /** Spawns under way for this slot. */
  filling: number;
  /** Cancels the scheduled refill, when one is. */
  cancelRefill: (() => void) | undefined;
  lastTake: number;
  pinned: boolean;
}

/**
 * Keeps generic runtime processes started and listening, so a cold start only has to load the
 * function's code into one (specialise) instead of starting a runtime. A process is handed out
 * once and never comes back: the process that ran one function never runs another.
 * Spares are keyed by profile: runtime, memory and network are set when a process starts.
 */
export class WarmPool {
  private readonly slots = new Map<string, Slot>();
  private closed = false;
  /** Spares being spawned, settled once each is a spare or stopped. */
  private readonly spawning = new Set<Promise<void>>();

  constructor(
    private readonly spawn: (profile: ProcessProfile) => Promise<RuntimeProcess>,
    private readonly clock: Clock,
    private readonly options: WarmPoolOptions,
    private readonly onSpawnError: (err: unknown) => void,
  ) {
    for (const profile of options.always) this.slot(profile, true);
    for (const slot of this.slots.values()) this.fill(slot);
  }

  /** A ready spare for this profile (or undefined), refilling the pool behind it. */
  take(profile: ProcessProfile): RuntimeProcess | undefined {
    if (this.closed) return undefined;
    const slot = this.slot(profile, false);
    slot.lastTake = this.clock.now();
    let spare: RuntimeProcess | undefined;
    while ((spare = slot.spares.shift()) && !spare.alive);
    this.scheduleRefill(slot);
    return spare;
  }

  /** Retires spares of pairs nobody has asked for in a while. */
  retireUnused(now: number): void {
    for (const [key, slot] of this.slots) {
      if (slot.pinned || now - slot.lastTake < this.options.retireAfterMs) continue;
      this.cancelRefill(slot);
      for (const spare of slot.spares.splice(0)) void spare.stop();
      if (slot.filling === 0) this.slots.delete(key);
    }
  }

  /** Processes waiting in the pool (for diagnostics). */
  get spareCount(): number {
    let count = 0;
    for (const slot of this.slots.values()) count += slot.spares.length;
    return count;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    for (const slot of this.slots.values()) this.cancelRefill(slot);
    const spares = [...this.slots.values()].flatMap((slot) => slot.spares.splice(0));
    // Spawns still in flight (e.g. a start-up that failed right after creating the pool) are
    // waited for and stopped too: nothing may outlive the pool or start in a removed directory.
    await Promise.all([...spares.map((spare) => spare.stop()), ...this.spawning]);
  }

  private slot(profile: ProcessProfile, pinned: boolean): Slot {
    const { limits } = profile;
    const key = `${profile.runtime}:${profile.memoryMb}:${profile.network}:${limits.maxProcesses}:${limits.maxOpenFiles}:${limits.tmpMb}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { key, profile: { ...profile, limits: { ...limits } }, spares: [], filling: 0, cancelRefill: undefined, lastTake: this.clock.now(), pinned };
      this.slots.set(key, slot);
    }
    return slot;
  }

  private scheduleRefill(slot: Slot): void {
    const delay = this.options.refillDelayMs ?? DEFAULT_REFILL_DELAY_MS;
    if (delay <= 0) return this.fill(slot);
    if (slot.cancelRefill) return;
    slot.cancelRefill = this.clock.after(delay, () => {
      slot.cancelRefill = undefined;
      this.fill(slot);
    });
  }

  private cancelRefill(slot: Slot): void {
    slot.cancelRefill?.();
    slot.cancelRefill = undefined;
  }

  private fill(slot: Slot): void {
    while (!this.closed && slot.spares.length + slot.filling < this.options.size) {
      slot.filling++;
      const spawning: Promise<void> = this.spawnSpare(slot).then(
        (spare) => {
          slot.filling--;
          if (this.closed || !this.slots.has(slot.key)) return spare.stop();
          slot.spares.push(spare);
          // A spare that dies while waiting is dropped; the next take refills.
          spare.onExit(() => {
            const index = slot.spares.indexOf(spare);
            if (index !== -1) slot.spares.splice(index, 1);
          });
        },
        (err: unknown) => {
          // No retry loop here: a runtime that cannot start is reported, and the next take tries again.
          slot.filling--;
          if (!this.closed) this.onSpawnError(err);
        },
      );
      this.spawning.add(spawning);
      void spawning.finally(() => this.spawning.delete(spawning));
    }
  }

  /** A new spare, primed so its first specialisation and request are fast. */
  private async spawnSpare(slot: Slot): Promise<RuntimeProcess> {
    const spare = await this.spawn(slot.profile);
    await spare.prime().catch(() => undefined);
    return spare;
  }
}
