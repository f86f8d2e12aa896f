import type { Clock } from '../../core/clock.js';
import { idleCores, machineCpuTimes, type CpuTimes, type ReadCpuTimes } from './cpu-idle.js';
import type { ProcessProfile, RuntimeProcess } from './runtime-process.js';

/** See {@link WarmPoolOptions.refillDelayMs}. */
const DEFAULT_REFILL_DELAY_MS = 50;
/**
 * A refill's spawn waits for this much idle CPU (in cores, averaged since the last look): starting
 * a sandboxed node spare costs some 300 ms of CPU (the runtime's start, its network helper's), and
 * on a saturated machine that time comes out of the work that is running. Measured on a 2-core VM:
 * a backlog of 10,000 released onto a fresh instance drained 20-30% faster when the refill did
 * not start in the drain's first second, where the instance warms up and both cores are full.
 */
export const REFILL_IDLE_CORES = 0.75;
/** How often a waiting refill looks at the CPU again. */
export const REFILL_RECHECK_MS = 100;
/** The longest a refill waits for idle CPU after the take: a machine busy for longer still gets its spare. */
export const REFILL_MAX_WAIT_MS = 5_000;

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
   * specialisation and first request of the cold start that took the spare. After the pause the
   * spawn also waits, up to {@link REFILL_MAX_WAIT_MS} from the take, until the machine had
   * {@link REFILL_IDLE_CORES} of a core idle since the last look (the take, then every
   * {@link REFILL_RECHECK_MS}). 0 refills at the take. @default 50
   */
  refillDelayMs?: number;
  /** Reads the machine's CPU times, for the refill's wait for idle CPU. @default machineCpuTimes */
  cpuTimes?: ReadCpuTimes;
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

  /**
   * Refills `slot` once the refill delay is over and a core is free enough for the spawn (or the
   * wait's cap is reached). Takes meanwhile share the one scheduled refill.
   */
  private scheduleRefill(slot: Slot): void {
    const delay = this.options.refillDelayMs ?? DEFAULT_REFILL_DELAY_MS;
    if (delay <= 0) return this.fill(slot);
    if (slot.cancelRefill) return;
    const readCpu = this.options.cpuTimes ?? machineCpuTimes;
    const takenAt = this.clock.now();
    let since: CpuTimes | undefined;
    // The first reading comes right after the take's turn of the event loop, not in it: the take
    // is on a cold start's path. (setImmediate, not the Clock: it measures no time.)
    const firstReading = setImmediate(() => (since ??= readCpu()));
    const lookAfter = (ms: number) => {
      const cancelLook = this.clock.after(ms, () => {
        slot.cancelRefill = undefined;
        const now = readCpu();
        if (since !== undefined) {
          const idle = idleCores(since, now);
          // Counters that did not move tell nothing: the spawn goes ahead rather than wait blind.
          if (idle === undefined || idle >= REFILL_IDLE_CORES) return this.fill(slot);
        }
        if (this.clock.now() - takenAt >= REFILL_MAX_WAIT_MS) return this.fill(slot);
        since = now;
        lookAfter(REFILL_RECHECK_MS);
      });
      slot.cancelRefill = () => {
        clearImmediate(firstReading);
        cancelLook();
      };
    };
    lookAfter(delay);
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
