import { Registry } from 'prom-client';
import { InvocationMetrics } from './invocation-metrics.js';
import { type GaugeSources, registerPlatformGauges } from './platform-gauges.js';
import { processMetrics } from './process-metrics.js';
import { registerTriggerMetrics, type TriggerMetricsSource } from './trigger-metrics.js';

/**
 * A platform's Prometheus metrics (docs/metrics.md): invocation counters and histograms (fed by
 * {@link PlatformMetrics.invocations}' listener), gauges read from `sources` at scrape time, the
 * triggers' event counts and status (read from `triggers` at scrape time, when given), and the
 * process's default metrics. Each platform has its own registry, so several in one process
 * (tests) do not mix their figures.
 */
export class PlatformMetrics {
  /** Subscribe `invocations.record` to the gateway's `InvocationEvents`. */
  readonly invocations: InvocationMetrics;
  /** The Prometheus text format's content type. */
  readonly contentType: string;
  private readonly scraped: Registry;

  constructor(sources: GaugeSources, triggers?: TriggerMetricsSource) {
    const own = new Registry();
    this.invocations = new InvocationMetrics(own);
    registerPlatformGauges(own, sources);
    if (triggers) registerTriggerMetrics(own, triggers);
    this.scraped = Registry.merge([own, processMetrics()]);
    this.contentType = this.scraped.contentType;
  }

  /** Every metric in the Prometheus text format (runs the gauges' `collect()` callbacks). */
  text(): Promise<string> {
    return this.scraped.metrics();
  }

  /** Drops a removed function's invocation series (its gauges go by themselves). */
  forget(name: string): void {
    this.invocations.forget(name);
  }
}
