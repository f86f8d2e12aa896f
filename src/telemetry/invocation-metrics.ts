import { Counter, type Registry } from 'prom-client';
import type { InvocationEnded, InvocationSource } from '../core/invocation.js';
import { HistogramSeries, type LabelledSeries, ScrapedHistogram } from './scraped-histogram.js';

/**
 * Histogram buckets in seconds for invocation times: a millisecond (a warm handler) to an hour
 * (the longest function timeout), 1-2.5-5 per decade up to ten seconds, then minutes.
 */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
]);

const SOURCES: readonly InvocationSource[] = ['http', 'async', 'trigger'];
/** The `outcome` label of a function response, by the status's hundreds digit. */
const STATUS_CLASSES = ['', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const PHASES = ['queue', 'start', 'handler'] as const;

/** Ended invocations of one function from one source, by outcome. */
interface OutcomeCounts {
  /** Function responses by status class: index 1 is `1xx` … index 5 is `5xx` (0 unused). */
  byClass: Float64Array;
  /** Platform errors by error code (a catalogue code: bounded). */
  byError: Map<string, number>;
  abandoned: number;
}

/** Everything counted about one function: plain numbers, read only when scraped. */
interface FunctionTotals {
  name: string;
  bySource: Record<InvocationSource, OutcomeCounts>;
  duration: HistogramSeries;
  bytesIn: number;
  bytesOut: number;
  coldStarts: number;
  /** Created on the function's first cold start. */
  phases?: Record<(typeof PHASES)[number], HistogramSeries>;
}

/**
 * Counters and histograms of ended invocations. {@link InvocationMetrics.record} is the one
 * `InvocationEvents` listener: a map lookup by function name and a few additions into plain
 * numbers, with no label hashing or allocation on the invocation's path. The prom-client
 * metrics registered in the registry read these totals only when scraped.
 *
 * Series are per function; {@link InvocationMetrics.forget} drops a removed function's.
 */
export class InvocationMetrics {
  private readonly functions = new Map<string, FunctionTotals>();

  constructor(registry: Registry) {
    const totals = () => this.functions.values();
    const registers = [registry];
    new Counter({
      name: 'nimbus_invocations_total',
      help: 'Ended invocations by function, source and outcome: the status class of the function\'s response (2xx...5xx), "error" (the platform answered instead; code: the error code) or "abandoned" (the caller went away first).',
      labelNames: ['function', 'source', 'outcome', 'code'],
      registers,
      collect() {
        this.reset();
        for (const fn of totals()) {
          for (const source of SOURCES) {
            const counts = fn.bySource[source];
            counts.byClass.forEach((n, index) => {
              if (n > 0) this.inc({ function: fn.name, source, outcome: STATUS_CLASSES[index] }, n);
            });
            for (const [code, n] of counts.byError) this.inc({ function: fn.name, source, outcome: 'error', code }, n);
            if (counts.abandoned > 0) this.inc({ function: fn.name, source, outcome: 'abandoned' }, counts.abandoned);
          }
        }
      },
    });
    perFunctionCounter(registry, 'nimbus_cold_starts_total', 'Invocations that waited for a new instance to start, by function.', totals, (fn) => fn.coldStarts);
    perFunctionCounter(registry, 'nimbus_request_bytes_total', 'Request body bytes sent to instances, by function.', totals, (fn) => fn.bytesIn);
    perFunctionCounter(registry, 'nimbus_response_bytes_total', 'Response body bytes the functions sent back, by function.', totals, (fn) => fn.bytesOut);
    new ScrapedHistogram({
      name: 'nimbus_invocation_duration_seconds',
      help: 'Time from the gateway taking an invocation to its end (waiting for capacity, a cold start if any, and the handler), by function.',
      labelNames: ['function'],
      buckets: DURATION_BUCKETS,
      registry,
      *series(): Iterable<LabelledSeries> {
        for (const fn of totals()) yield { labels: { function: fn.name }, series: fn.duration };
      },
    });
    new ScrapedHistogram({
      name: 'nimbus_cold_start_phase_seconds',
      help: 'Where the time of cold-start invocations went, by function and phase: queue (waiting for capacity), start (starting the instance and loading the handler), handler (the request itself).',
      labelNames: ['function', 'phase'],
      buckets: DURATION_BUCKETS,
      registry,
      *series(): Iterable<LabelledSeries> {
        for (const fn of totals()) {
          if (!fn.phases) continue;
          for (const phase of PHASES) yield { labels: { function: fn.name, phase }, series: fn.phases[phase] };
        }
      },
    });
  }

  /** Records one ended invocation: the `InvocationEvents` listener. */
  readonly record = (ended: InvocationEnded): void => {
    const fn = this.functions.get(ended.function) ?? this.track(ended.function);
    const counts = fn.bySource[ended.source];
    if (ended.outcome === 'response') {
      // node:http only sends 100-599; anything else would be the platform's fault: count it as 5xx.
      const index = Math.trunc((ended.status ?? 500) / 100);
      const cls = index >= 1 && index <= 5 ? index : 5;
      counts.byClass[cls] = (counts.byClass[cls] as number) + 1;
    } else if (ended.outcome === 'error') {
      const code = ended.error?.code ?? 'INTERNAL';
      counts.byError.set(code, (counts.byError.get(code) ?? 0) + 1);
    } else {
      counts.abandoned++;
    }
    const { timings } = ended;
    fn.duration.observe(timings.totalMs / 1000);
    fn.bytesIn += ended.bytesIn;
    fn.bytesOut += ended.bytesOut;
    if (ended.coldStart) {
      fn.coldStarts++;
      const phases = fn.phases ?? (fn.phases = { queue: new HistogramSeries(DURATION_BUCKETS), start: new HistogramSeries(DURATION_BUCKETS), handler: new HistogramSeries(DURATION_BUCKETS) });
      phases.queue.observe(timings.queueMs / 1000);
      phases.start.observe(timings.startMs / 1000);
      phases.handler.observe(timings.handlerMs / 1000);
    }
  };

  /**
   * Drops every series of a removed function. A function deployed again under the name starts
   * from zero, which Prometheus's `rate()` and `increase()` read as a counter reset.
   */
  forget(name: string): void {
    this.functions.delete(name);
  }

  private track(name: string): FunctionTotals {
    const bySource = Object.fromEntries(SOURCES.map((source) => [source, { byClass: new Float64Array(STATUS_CLASSES.length), byError: new Map(), abandoned: 0 }]));
    const fn: FunctionTotals = {
      name,
      bySource: bySource as Record<InvocationSource, OutcomeCounts>,
      duration: new HistogramSeries(DURATION_BUCKETS),
      bytesIn: 0,
      bytesOut: 0,
      coldStarts: 0,
    };
    this.functions.set(name, fn);
    return fn;
  }
}

/** A counter with a `function` label whose values are read from the totals at scrape time. */
function perFunctionCounter(registry: Registry, name: string, help: string, totals: () => Iterable<FunctionTotals>, value: (fn: FunctionTotals) => number): void {
  new Counter({
    name,
    help,
    labelNames: ['function'],
    registers: [registry],
    collect() {
      this.reset();
      for (const fn of totals()) this.inc({ function: fn.name }, value(fn));
    },
  });
}
