/**
 * The CPU time of each invocation, at the cost of two clock reads instead of two `getrusage`
 * calls. `process.cpuUsage()` costs about 2 µs a call on the virtual machines measured (a
 * system call that sums every thread of the process); called at each request's arrival and
 * response head, it was some 4 µs of the instance's ~34 µs per warm hello request.
 *
 * Per invocation the meter reads how long the event loop was busy between the two points (Node's
 * event-loop utilisation: two clock reads), and converts it to CPU time with the instance's
 * recent ratio of CPU time to busy time, read with `process.cpuUsage()` at most once per
 * {@link WINDOW_MS}. The ratio brings in what busy time alone misses or overstates: the work of the
 * process's other threads (the garbage collector's, the optimising compiler's: up to a tenth of a
 * busy handler's CPU), and the time a busy loop waited for a core on a busy machine. Over many
 * invocations the figures follow the instance's CPU; a single invocation's figure is an estimate,
 * within the ratio's drift over one window.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** How often the ratio of CPU time to busy time is measured again. */
const WINDOW_MS = 1_000;
/** The ratio is only taken from windows busy at least this long (ms): below, it is mostly noise. */
const MIN_BUSY_MS = 5;
/** Bounds of the ratio: a process's helper threads can add to, never multiply, its main thread's work. */
const MAX_RATIO = 2;

export class CpuMeter {
  private ratio = 1;
  private windowAt = performance.now();
  private windowCpu = process.cpuUsage();
  private windowLoop = performance.eventLoopUtilization();

  /** A mark at an invocation's start, for {@link microsSince}. */
  mark(): EventLoopUtilization {
    return performance.eventLoopUtilization();
  }

  /** Microseconds of CPU time attributed to the span since `start`. */
  microsSince(start: EventLoopUtilization): number {
    const busyMs = performance.eventLoopUtilization(start).active;
    this.measureRatio();
    return Math.round(busyMs * this.ratio * 1000);
  }

  private measureRatio(): void {
    const now = performance.now();
    if (now - this.windowAt < WINDOW_MS) return;
    const cpu = process.cpuUsage(this.windowCpu);
    const loop = performance.eventLoopUtilization(this.windowLoop);
    if (loop.active >= MIN_BUSY_MS) this.ratio = Math.min(MAX_RATIO, (cpu.user + cpu.system) / 1000 / loop.active);
    this.windowAt = now;
    this.windowCpu = process.cpuUsage();
    this.windowLoop = performance.eventLoopUtilization();
  }
}
