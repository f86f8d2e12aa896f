/**
 * CPU time per request of the processes behind a target, read from /proc around a measured run.
 * Throughput on a small machine moves with everything else that runs on it (the generator and
 * both servers share the cores); the CPU each process spends per request moves much less, and it
 * says where the time goes: in the front process (proxy or gateway) or behind it (the server or
 * the function's instance).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { descendantsOf } from './child.js';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every common Linux build). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU seconds a process (or its main thread alone) has used so far, or undefined when it is gone. */
function cpuSeconds(pid: number, mainThread = false): number | undefined {
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** A group of processes whose CPU is counted together: one process, or every process below it. */
export interface ProcessGroup {
  label: string;
  pid: number;
  /** Count the processes below `pid` (children, grandchildren, ...) instead of `pid` itself. */
  below?: boolean;
  /** Count only the main thread of `pid` (its event loop), not its other threads. */
  mainThread?: boolean;
}

/** CPU seconds of each process of a group right now, by PID. */
function snapshot(group: ProcessGroup): Map<number, number> {
  const pids = group.below ? descendantsOf(group.pid) : [group.pid];
  const times = new Map<number, number>();
  for (const pid of pids) {
    const seconds = cpuSeconds(pid, group.mainThread);
    if (seconds !== undefined) times.set(pid, seconds);
  }
  return times;
}

/**
 * Starts counting the CPU each group uses from now on; the returned function answers the CPU
 * seconds used so far, by group label. A process that starts meanwhile counts whole; one that
 * ends meanwhile is missed (neither happens in a warm steady run).
 */
export function cpuMeter(groups: ProcessGroup[]): () => Record<string, number> {
  const before = groups.map(snapshot);
  return () => {
    const used: Record<string, number> = {};
    groups.forEach((group, i) => {
      let seconds = 0;
      for (const [pid, now] of snapshot(group)) seconds += now - (before[i]?.get(pid) ?? 0);
      used[group.label] = seconds;
    });
    return used;
  };
}

/**
 * Runs `body` (a measured load run that reports how many requests it completed) and returns, per
 * group, the CPU microseconds it used per completed request.
 */
export async function cpuPerRequest<T extends { requests: number }>(
  groups: ProcessGroup[],
  body: () => Promise<T>,
): Promise<{ result: T; cpuUs: Record<string, number> }> {
  const used = cpuMeter(groups);
  const result = await body();
  const cpuUs: Record<string, number> = {};
  for (const [label, seconds] of Object.entries(used())) cpuUs[label] = result.requests > 0 ? (seconds * 1e6) / result.requests : Number.NaN;
  return { result, cpuUs };
}
