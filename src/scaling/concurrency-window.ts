/**
 * Recent concurrency samples (in-flight + queued requests) of one function, for the autoscaler.
 *
 * The caller records a sample every tick and may also record at request arrival. Averages are
 * time-weighted so those extra arrival samples do not outweigh the regular ticks: a sample stands
 * for the interval since the previous sample (the value seen at `at` is taken to have held since
 * then). This way the newest sample always counts, even when the decision runs at the same instant.
 */
export class ConcurrencyWindow {
  /** Samples in time order; entries before `head` are pruned and awaiting compaction. */
  private samples: { at: number; value: number }[] = [];
  private head = 0;
  private retainMs: number;
  private lastActive: number | undefined;

  /**
   * @param retainMs how much history to keep before `average` has been asked about a longer
   *   window; grows to the largest window asked about.
   * @default 60_000
   */
  constructor(retainMs = 60_000) {
    this.retainMs = retainMs;
  }

  /** Records the concurrency observed at `now`. Bad values are dropped, not thrown (hot path). */
  record(now: number, concurrency: number): void {
    if (!Number.isFinite(now) || !Number.isFinite(concurrency)) return;
    const value = Math.max(0, concurrency);
    const last = this.samples[this.samples.length - 1];
    // Same instant (or a clock that stepped back): the newest observation replaces the last one,
    // so memory does not grow with the request rate within one millisecond and order is kept.
    const at = last && now <= last.at ? last.at : now;
    if (last && at === last.at) last.value = value;
    else this.samples.push({ at, value });
    if (value > 0) this.lastActive = at;
    this.prune(now);
  }

  /**
   * Time-weighted average concurrency over `(now - windowMs, now]`, or `undefined` when no
   * sample falls in that window (missing data is not zero demand). O(samples in the window).
   */
  average(windowMs: number, now: number): number | undefined {
    if (windowMs > this.retainMs) this.retainMs = windowMs;
    const start = now - windowMs;
    let weighted = 0;
    let weight = 0;
    let sum = 0;
    let count = 0;
    for (let i = this.samples.length - 1; i >= this.head; i--) {
      const s = this.samples[i]!;
      if (s.at > now) continue;
      if (s.at <= start) break;
      const prev = i > this.head ? this.samples[i - 1] : undefined;
      // The oldest sample we hold has no known interval; it still counts in the plain mean below.
      const w = prev ? s.at - Math.max(prev.at, start) : 0;
      weighted += s.value * w;
      weight += w;
      sum += s.value;
      count++;
    }
    if (count === 0) return undefined;
    // All samples at one instant (e.g. the very first tick): fall back to their plain mean.
    return weight > 0 ? weighted / weight : sum / count;
  }

  /** When concurrency was last above zero, or `undefined` if never. Survives pruning. */
  lastNonZeroAt(): number | undefined {
    return this.lastActive;
  }

  /** Number of samples held; lets tests check memory stays bounded. */
  get size(): number {
    return this.samples.length - this.head;
  }

  private prune(now: number): void {
    const cutoff = now - this.retainMs;
    // Keep one sample at or before the cutoff: it bounds the interval of the first one inside.
    while (this.head + 1 < this.samples.length && this.samples[this.head + 1]!.at <= cutoff) this.head++;
    // Compact only once half the array is dead, so pruning stays amortised O(1) per record.
    if (this.head > 64 && this.head * 2 > this.samples.length) {
      this.samples = this.samples.slice(this.head);
      this.head = 0;
    }
  }
}
