/**
 * The CPU time of an invocation, for its history record (docs/metering.md), at a cost that stays
 * out of the hot path. The process's CPU time takes a system call (getrusage), which costs 1.5 to
 * 2 µs on some virtual machines: two per invocation were about a tenth of the shim's CPU for a warm
 * hello. So:
 *
 * - a span shorter than {@link SHORT_SPAN_MS} of wall time reports the main thread's busy time over
 *   it (the event loop's active time: clock reads, no system call). It misses what the process's
 *   other threads spent meanwhile, which in under a millisecond is little;
 * - a longer span reports the process's CPU time (every thread: work a handler hands to the thread
 *   pool, such as hashing or compression, counts) read at its end, less its estimate at the start:
 *   a reading at most {@link READING_FRESH_MS} old plus the main thread's busy time since. A busy
 *   instance thus pays about one reading per millisecond, not two per invocation.
 *
 * When an instance serves several invocations at once, a span holds the others' work in it too:
 * it is the instance's CPU during the invocation, not the invocation's alone.
 */
import { performance } from 'node:perf_hooks';

/** A span shorter than this (ms, wall time) reports the main thread's busy time and reads no process CPU. */
export const SHORT_SPAN_MS = 1;
/** A process CPU reading this recent (ms) serves as the base of a span's start. */
export const READING_FRESH_MS = 1;

/** The process's CPU time (µs) at the last reading, the main thread's busy time (ms) then, and when (ms). */
let readingUs = 0;
let readingBusyMs = 0;
let readingAt = Number.NEGATIVE_INFINITY;

/** The main thread's busy time so far (ms): the event loop's time not spent waiting for I/O. */
function busyMs(): number {
  return performance.eventLoopUtilization().active;
}

function read(): void {
  const used = process.cpuUsage();
  readingUs = used.user + used.system;
  readingBusyMs = busyMs();
  readingAt = performance.now();
}

/** Where a span started: when (ms), the main thread's busy time (ms) and the process's estimated CPU time (µs). */
export interface CpuSpanStart {
  at: number;
  busyMs: number;
  cpuUs: number;
}

/** Starts a span: reads the process's CPU time only when the last reading is older than {@link READING_FRESH_MS}. */
export function startCpuSpan(): CpuSpanStart {
  const at = performance.now();
  if (at - readingAt > READING_FRESH_MS) read();
  const busy = busyMs();
  return { at, busyMs: busy, cpuUs: readingUs + (busy - readingBusyMs) * 1000 };
}

/** The CPU time (µs, whole) of the span begun at `start`, up to now. */
export function cpuSpanMicros(start: CpuSpanStart): number {
  if (performance.now() - start.at < SHORT_SPAN_MS) return Math.round((busyMs() - start.busyMs) * 1000);
  read();
  return Math.max(0, Math.round(readingUs - start.cpuUs));
}
