import type { VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

/**
 * A time-series chart (uPlot): x in seconds since the epoch, one or more series on one y axis.
 * Rebuilt when the data changes (once a refresh), sized to its container.
 */
export function Chart({ title, times, series, unit }: { title: string; times: number[]; series: ChartSeries[]; unit: string }): VNode {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = box.current;
    if (!target) return undefined;
    const options: uPlot.Options = {
      width: Math.max(280, target.clientWidth),
      height: 200,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v} ${unit}`) }))],
      axes: [{}, { label: unit, size: 60 }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      legend: { live: true },
    };
    const chart = new uPlot(options, [times, ...series.map((s) => s.values)], target);
    return () => chart.destroy();
  }, [times, series, unit]);
  return html`<figure class="chart"><figcaption>${title}</figcaption><div ref=${box}></div></figure>`;
}
