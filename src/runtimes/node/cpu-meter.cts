/**
 * The CPU time of an invocation, for its history record (docs/metering.md), at a cost that stays
 * out of the hot path. The process's CPU time takes a system call (getrusage), which costs 1.5 to
 * 2 µs on some virtual machines: two per invocation were about a tenth of the shim's CPU for a warm
 * hello. So:
 *
 * - a span whose main thread was busy under {@link SHORT_SPAN_MS} reports that busy time (the event
 *   loop's active time over the span: two clock reads, no system call). It misses what the
 *   process's other threads spent meanwhile, a few microseconds at most at that length;
 * - a longer span reports the process's CPU time (every thread) read at its end, less its
 *   estimate at the start: a reading at most {@link READING_FRESH_MS} old plus the main thread's
 *   busy time since. A busy instance thus pays one reading per millisecond, not two per invocation.
 *
 * When an instance serves several invocations at once, a span holds the others' work in it too:
 * it is the instance's CPU during the invocation, not the invocation's alone.
 */
import { performance } from 'node:perf_hooks';

/** Below this much main-thread busy time (ms), a span reports that time and reads no process CPU. */
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

/** Where a span started: the main thread's busy time (ms) and the process's estimated CPU time (µs). */
export interface CpuSpanStart {
  busyMs: number;
  cpuUs: number;
}

/** Starts a span: reads the process's CPU time only when the last reading is older than {@link READING_FRESH_MS}. */
export function startCpuSpan(): CpuSpanStart {
  if (performance.now() - readingAt > READING_FRESH_MS) read();
  const busy = busyMs();
  return { busyMs: busy, cpuUs: readingUs + (busy - readingBusyMs) * 1000 };
}

/** The CPU time (µs, whole) of the span begun at `start`, up to now. */
export function cpuSpanMicros(start: CpuSpanStart): number {
  const busy = busyMs() - start.busyMs;
  if (busy < SHORT_SPAN_MS) return Math.round(busy * 1000);
  read();
  return Math.max(0, Math.round(readingUs - start.cpuUs));
}
