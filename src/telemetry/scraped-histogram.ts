import { Histogram, type Registry } from 'prom-client';

/** What `get()` answers (prom-client does not export the type by name). */
type Collected = Awaited<ReturnType<Histogram<string>['get']>>;

/**
 * One label set's histogram, kept as plain numbers: observing is a short scan of the bounds and
 * three additions, with no label hashing and no allocation (prom-client's own `observe` hashes
 * the labels and builds a closure on every call, about a microsecond per event here).
 */
export class HistogramSeries {
  /** Observations per bucket, not cumulative; the last slot is above every bound (`+Inf`). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** A label set and its series, as a {@link ScrapedHistogram} reads them. */
export interface LabelledSeries {
  labels: Record<string, string>;
  series: HistogramSeries;
}

/** What a {@link ScrapedHistogram} is: its name, help, label names and buckets, and where its series come from. */
export interface ScrapedHistogramConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  buckets: readonly number[];
  registry: Registry;
  /** Every series to show, read at scrape time. */
  series(): Iterable<LabelledSeries>;
}

/**
 * A prom-client histogram whose values live in {@link HistogramSeries} kept by the caller: the
 * registry formats it like any histogram, and `get()` (called only on a scrape) turns the
 * series into cumulative `_bucket`, `_sum` and `_count` values.
 */
export class ScrapedHistogram extends Histogram<string> {
  private readonly config: ScrapedHistogramConfig;

  constructor(config: ScrapedHistogramConfig) {
    super({ name: config.name, help: config.help, labelNames: [...config.labelNames], buckets: [...config.buckets], registers: [config.registry] });
    this.config = config;
  }

  override get(): Promise<Collected> {
    const { name, help, buckets } = this.config;
    const values: Collected['values'] = [];
    const bucketName = `${name}_bucket`;
    for (const { labels, series } of this.config.series()) {
      let cumulative = 0;
      for (let i = 0; i < buckets.length; i++) {
        cumulative += series.counts[i] as number;
        values.push({ metricName: bucketName, labels: { ...labels, le: buckets[i] as number }, value: cumulative });
      }
      values.push({ metricName: bucketName, labels: { ...labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: `${name}_sum`, labels, value: series.sum });
      values.push({ metricName: `${name}_count`, labels, value: series.count });
    }
    // Cast: the type declarations name the metric type with an enum prom-client does not export
    // at run time (its metrics answer the string the registry prints) and want a `collect`.
    return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values } as unknown as Collected);
  }

  /**
   * What the registry formats as text: prom-client 15 asks histograms for this rather than
   * `get()` when it is present (its own builds shared labels from its internal map), so it is
   * answered the same way. The unit tests read the text output, so a prom-client that changes
   * this path fails them rather than silently showing empty histograms.
   */
  getForPromString(): Promise<Collected> {
    return this.get();
  }
}
