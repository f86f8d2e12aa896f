import type { VNode } from 'preact';
import type { FunctionList, FunctionView } from '../../api/wire.js';
import { type Api, ApiError } from '../api.js';
import { dataNote } from '../components/notes.js';
import { count, DASH, ms, rate } from '../format.js';
import { html } from '../html.js';
import type { FunctionStats, StatsWindow } from '../observability.js';
import { link } from '../router.js';
import { useData } from '../use-data.js';

/** Window of the table's figures. */
const WINDOW = '5m';

/** The function's state in a word, from its instances and its last start. */
export function statusOf(fn: FunctionView): { label: string; tone: string } {
  if (fn.lastStartError) return { label: 'start failed', tone: 'bad' };
  if (fn.readyInstances > 0) return { label: 'ready', tone: 'ok' };
  if (fn.instances > 0) return { label: 'starting', tone: 'warn' };
  return { label: 'scaled to zero', tone: 'muted' };
}

/** Functions: one row each, with their instances and the last five minutes of traffic. */
export function FunctionsPage({ api }: { api: Api }): VNode {
  const functions = useData((signal) => api.get<FunctionList>('/api/v1/functions', signal), 'functions', 5000);
  const stats = useData((signal) => api.get<StatsWindow>(`/api/v1/stats?window=${WINDOW}`, signal), 'stats', 5000);
  const byName = new Map<string, FunctionStats>((stats.data?.functions ?? []).map((s) => [s.name, s]));
  const statsMissing = stats.error instanceof ApiError && stats.error.notAvailable;
  const list = functions.data?.functions ?? [];

  return html`<section>
    <h1>Functions</h1>
    ${dataNote(functions, 'Functions')}
    ${statsMissing ? html`<p class="note unavailable" data-testid="not-available">Traffic figures (requests/s, errors, latency, cold starts): not available on this platform.</p>` : dataNote(stats, 'Traffic figures')}
    ${functions.data && list.length === 0 ? html`<p class="note">No functions yet. Deploy one with <code>nimbus deploy</code>.</p>` : null}
    ${list.length > 0
      ? html`<table class="data" data-testid="functions">
          <thead><tr>
            <th>Name</th><th>Status</th><th>Runtime</th><th class="num">Version</th><th class="num">Instances</th>
            <th class="num">Requests/s</th><th class="num">Errors</th><th class="num">p50</th><th class="num">p99</th><th class="num">Cold starts</th>
          </tr></thead>
          <tbody>
            ${list.map((fn) => {
              const s = byName.get(fn.name);
              const status = statusOf(fn);
              return html`<tr data-function=${fn.name}>
                <td><a href=${link('functions', fn.name)}>${fn.name}</a></td>
                <td><span class=${`pill ${status.tone}`}>${status.label}</span></td>
                <td>${fn.runtime}</td>
                <td class="num">${fn.version}</td>
                <td class="num" title="ready / all (desired)">${fn.readyInstances} / ${fn.instances} (${fn.desired})</td>
                <td class="num">${s ? rate(s.ratePerSecond) : DASH}</td>
                <td class="num">${s ? count(s.errors) : DASH}</td>
                <td class="num">${s ? ms(s.p50Ms) : DASH}</td>
                <td class="num">${s ? ms(s.p99Ms) : DASH}</td>
                <td class="num">${s ? count(s.coldStarts) : DASH}</td>
              </tr>`;
            })}
          </tbody>
        </table>
        <p class="muted small">Traffic over the last ${WINDOW}; refreshed every 5 s. Instances: ready / all (desired).</p>`
      : null}
  </section>`;
}
