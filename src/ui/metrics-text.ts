/**
 * Reads gauges out of the platform's `/metrics` (Prometheus text format) for the few figures the
 * API has no route for yet (the async backlog). Only plain `name{labels} value` lines of the
 * wanted metrics are read; comments and other metrics are skipped.
 */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export function samplesOf(text: string, metric: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const close = line.lastIndexOf('}');
    const labelText = line.startsWith(`${metric}{`) ? line.slice(metric.length + 1, close) : '';
    const value = Number(line.slice(close === -1 ? metric.length : close + 1).trim().split(' ')[0]);
    const labels: Record<string, string> = {};
    for (const match of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, '$1');
    if (!Number.isNaN(value)) samples.push({ labels, value });
  }
  return samples;
}
