import { cpus } from 'node:os';

/** CPU time the machine has spent so far, summed over its cores (milliseconds), and its core count. */
export interface CpuTimes {
  idle: number;
  total: number;
  cores: number;
}

/** Reads the machine's CPU times; replaced in tests. */
export type ReadCpuTimes = () => CpuTimes;

/**
 * The machine's CPU times now, from the kernel's counters (`os.cpus()`, about 60 µs a call on a
 * 2-core VM; they advance in clock ticks of 10 ms). A time-sliced VM's stolen time counts as
 * neither idle nor busy here, so a host under pressure reads as busier than it is, never as idler.
 * They are the host's counters: in a container held to a CPU quota below the host's cores the
 * machine mostly reads as idle, and whoever waits for idle CPU (the warm pool's refill) goes
 * ahead as it would without looking.
 */
export const machineCpuTimes: ReadCpuTimes = () => {
  let idle = 0;
  let total = 0;
  const all = cpus();
  for (const { times } of all) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total, cores: all.length };
};

/**
 * How many cores were idle on average between two readings (0 to the core count), or undefined
 * when the counters did not move between them (too short a span to tell).
 */
export function idleCores(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return ((after.idle - before.idle) / total) * after.cores;
}
