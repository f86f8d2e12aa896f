import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * CPU time the machine has spent so far, summed over its cores (in the counters' own unit: only
 * ratios of two readings are used), and its core count.
 */
export interface CpuTimes {
  idle: number;
  total: number;
  cores: number;
}

/** Reads the machine's CPU times; replaced in tests. */
export type ReadCpuTimes = () => CpuTimes;

const PROC_STAT = '/proc/stat';
const HAS_PROC_STAT = existsSync(PROC_STAT);
/** Read once: `os.cpus()` also reads /proc/cpuinfo (see {@link machineCpuTimes}). */
const CORES = cpus().length;
/** The first line of /proc/stat (the sum over the cores) fits well within this. */
const statBuffer = Buffer.alloc(512);

/**
 * The machine's CPU times now. On Linux from the first line of /proc/stat (one small read, some
 * 60 µs on a 2-core VM; `os.cpus()` reads /proc/cpuinfo as well and took 300-550 µs, and the warm
 * pool's readings through it made node cold starts 1.5-2 ms slower); elsewhere from `os.cpus()`.
 * Time stolen by the hypervisor counts as busy, so a host under pressure reads as busier than it
 * is, never as idler. These are the host's counters: in a container held to a CPU quota below the
 * host's cores the machine mostly reads as idle, and whoever waits for idle CPU (the warm pool's
 * refill) goes ahead as it would without looking.
 */
export const machineCpuTimes: ReadCpuTimes = () => (HAS_PROC_STAT ? fromProcStat() : undefined) ?? fromOsCpus();

function fromProcStat(): CpuTimes | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(PROC_STAT, 'r');
    const length = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return parseProcStat(statBuffer.toString('latin1', 0, length), CORES);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fromOsCpus(): CpuTimes {
  let idle = 0;
  let total = 0;
  const all = cpus();
  for (const { times } of all) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total, cores: all.length };
}

/**
 * The times in the aggregate `cpu` line that starts /proc/stat (user, nice, system, idle, iowait,
 * irq, softirq, steal, ...; guest time is already inside user and nice), or undefined when the
 * text does not start with one. Waiting for I/O counts as idle.
 */
export function parseProcStat(text: string, cores: number): CpuTimes | undefined {
  const end = text.indexOf('\n');
  const fields = (end === -1 ? text : text.slice(0, end)).trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 5) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields.slice(1, 9).map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  if (!Number.isFinite(total)) return undefined;
  return { idle: idle + iowait, total, cores };
}

/**
 * How many cores were idle on average between two readings (0 to the core count), or undefined
 * when the counters did not move between them (too short a span to tell).
 */
export function idleCores(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return ((after.idle - before.idle) / total) * after.cores;
}
