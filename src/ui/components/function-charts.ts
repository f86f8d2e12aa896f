import type { VNode } from 'preact';
import { useMemo } from 'preact/hooks';
import type { Api } from '../api.js';
import { html } from '../html.js';
import type { StatsSeries } from '../observability.js';
import { useData } from '../use-data.js';
import { Chart, type ChartSeries } from './chart.js';
import { dataNote } from './notes.js';

/** The last hour of a function, a bucket a minute: invocations and errors, p50 and p99 latency. */
export function FunctionCharts({ api, name }: { api: Api; name: string }): VNode {
  const series = useData((signal) => api.get<StatsSeries>(`/api/v1/functions/${encodeURIComponent(name)}/stats?minutes=60`, signal), name, 15_000);
  const charts = useMemo(() => {
    const buckets = series.data?.buckets ?? [];
    const times = buckets.map((b) => Date.parse(b.start) / 1000);
    const traffic: ChartSeries[] = [
      { label: 'invocations', color: '#2563eb', values: buckets.map((b) => b.invocations) },
      { label: 'errors', color: '#dc2626', values: buckets.map((b) => b.errors) },
    ];
    const latency: ChartSeries[] = [
      { label: 'p50', color: '#059669', values: buckets.map((b) => b.p50Ms) },
      { label: 'p99', color: '#d97706', values: buckets.map((b) => b.p99Ms) },
    ];
    return { times, traffic, latency };
  }, [series.data]);

  const note = dataNote(series, 'Charts of the last hour');
  if (note || !series.data) return html`<div data-testid="charts">${note}</div>`;
  return html`<div class="charts" data-testid="charts">
    <${Chart} title="Invocations and errors per minute" times=${charts.times} series=${charts.traffic} unit="per min" />
    <${Chart} title="Latency (p50, p99)" times=${charts.times} series=${charts.latency} unit="ms" />
  </div>`;
}
