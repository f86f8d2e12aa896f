import type { InvocationEnded } from '../core/invocation.js';
import { failed } from './metering.js';

const MINUTE_MS = 60_000;
/** Minutes kept per function: a day, the longest window the stats API answers. */
export const MINUTES_KEPT = 1440;
/**
 * Latency buckets: bucket 0 holds up to 0.1 ms, bucket i up to 0.1 ms × 1.25^i (the last one
 * everything above ~40 min). A percentile is answered as its bucket's geometric middle: within
 * about ±12% of the true value.
 */
const FIRST_BOUND_MS = 0.1;
const GROWTH = 1.25;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 80;

/** One minute of one function. */
interface Minute {
  /** Minutes since the epoch this slot holds now (slots are reused a day later). */
  minute: number;
  invocations: number;
  errors: number;
  coldStarts: number;
  latency: Uint32Array;
}

/** Figures of a span of minutes. */
export interface SpanFigures {
  invocations: number;
  errors: number;
  coldStarts: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * Per-function, per-minute aggregates of the last day, fed by the invocation-ended event: counts,
 * errors (the rule of metering.ts `failed`), cold starts and a log-bucketed latency histogram (of
 * the whole duration, queue included), from which the stats API answers rates and p50/p99. In
 * memory only: a restarted platform starts with none (the history keeps the records).
 * On the invocation's path: a map lookup, a logarithm and four additions.
 */
export class MinuteStats {
  private readonly functions = new Map<string, Array<Minute | undefined>>();

  readonly record = (ended: InvocationEnded): void => {
    let slots = this.functions.get(ended.function);
    if (!slots) {
      slots = new Array<Minute | undefined>(MINUTES_KEPT);
      this.functions.set(ended.function, slots);
    }
    const minute = Math.floor(ended.startedAt / MINUTE_MS);
    const index = minute % MINUTES_KEPT;
    let slot = slots[index];
    if (!slot) {
      slot = { minute, invocations: 0, errors: 0, coldStarts: 0, latency: new Uint32Array(BUCKETS) };
      slots[index] = slot;
    } else if (slot.minute !== minute) {
      if (minute < slot.minute) return; // older than the day kept
      slot.minute = minute;
      slot.invocations = slot.errors = slot.coldStarts = 0;
      slot.latency.fill(0);
    }
    slot.invocations++;
    if (failed(ended)) slot.errors++;
    if (ended.coldStart) slot.coldStarts++;
    slot.latency[bucketOf(ended.timings.totalMs)]!++;
  };

  /** Drops a removed function's figures. */
  forget(name: string): void {
    this.functions.delete(name);
  }

  /** The functions with figures. */
  names(): string[] {
    return [...this.functions.keys()];
  }

  /** Figures of `name` over the `minutes` minutes ending with the one holding `now`. */
  span(name: string, minutes: number, now: number): SpanFigures {
    const last = Math.floor(now / MINUTE_MS);
    return this.sum(name, last - minutes + 1, last);
  }

  /** One figure per minute of the `minutes` ending with the one holding `now`, oldest first. */
  perMinute(name: string, minutes: number, now: number): Array<SpanFigures & { start: number }> {
    const last = Math.floor(now / MINUTE_MS);
    const out: Array<SpanFigures & { start: number }> = [];
    for (let minute = last - minutes + 1; minute <= last; minute++) out.push({ start: minute * MINUTE_MS, ...this.sum(name, minute, minute) });
    return out;
  }

  private sum(name: string, first: number, last: number): SpanFigures {
    const figures: SpanFigures = { invocations: 0, errors: 0, coldStarts: 0, p50Ms: null, p99Ms: null };
    const slots = this.functions.get(name);
    if (!slots) return figures;
    const latency = new Uint32Array(BUCKETS);
    for (let minute = Math.max(first, last - MINUTES_KEPT + 1); minute <= last; minute++) {
      const slot = slots[minute % MINUTES_KEPT];
      if (!slot || slot.minute !== minute) continue;
      figures.invocations += slot.invocations;
      figures.errors += slot.errors;
      figures.coldStarts += slot.coldStarts;
      for (let i = 0; i < BUCKETS; i++) latency[i]! += slot.latency[i]!;
    }
    if (figures.invocations > 0) {
      figures.p50Ms = quantile(latency, figures.invocations, 0.5);
      figures.p99Ms = quantile(latency, figures.invocations, 0.99);
    }
    return figures;
  }
}

function bucketOf(ms: number): number {
  if (!(ms > FIRST_BOUND_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FIRST_BOUND_MS) / LOG_GROWTH));
}

/** The geometric middle of the bucket holding the `q` quantile, to 0.01 ms. */
function quantile(latency: Uint32Array, count: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  let bucket = 0;
  for (; bucket < BUCKETS; bucket++) {
    seen += latency[bucket]!;
    if (seen >= rank) break;
  }
  const value = bucket === 0 ? FIRST_BOUND_MS : FIRST_BOUND_MS * GROWTH ** (bucket - 0.5);
  return Math.round(value * 100) / 100;
}
