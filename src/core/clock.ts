/**
 * Time, passed in. Decision code takes `now`; loops take a Clock so tests can step a
 * {@link ManualClock} instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Milliseconds from an arbitrary origin, fractional and never going back: for measuring durations. */
  monotonic(): number;
  /** Calls `fn` every `ms` milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
  /** Calls `fn` once after `ms` milliseconds unless the returned function is called first. */
  after(ms: number, fn: () => void): () => void;
}

/** The real clock. Its timers are unref'd so they never keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A clock that only moves when told to; `advance` fires due tickers in order. */
export class ManualClock implements Clock {
  private current: number;
  private tickers = new Set<{ ms: number; next: number; fn: () => void }>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  monotonic(): number {
    return this.current;
  }

  every(ms: number, fn: () => void): () => void {
    const ticker = { ms, next: this.current + ms, fn };
    this.tickers.add(ticker);
    return () => this.tickers.delete(ticker);
  }

  after(ms: number, fn: () => void): () => void {
    const ticker = { ms: Number.POSITIVE_INFINITY, next: this.current + ms, fn: () => (this.tickers.delete(ticker), fn()) };
    this.tickers.add(ticker);
    return () => this.tickers.delete(ticker);
  }

  /** Moves time forward by `ms`, firing every ticker and timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let due: { ms: number; next: number; fn: () => void } | undefined;
      for (const t of this.tickers) if (t.next <= target && (!due || t.next < due.next)) due = t;
      if (!due) break;
      this.current = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.current = target;
  }
}
