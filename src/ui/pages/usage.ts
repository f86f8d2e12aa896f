import type { VNode } from 'preact';
import { type Api, withQuery } from '../api.js';
import { dataNote } from '../components/notes.js';
import { bytes, count, decimal, money, price, time } from '../format.js';
import { html } from '../html.js';
import type { UsageFigures, UsageReport } from '../observability.js';
import { linkWithQuery, type Route } from '../router.js';
import { useData } from '../use-data.js';

/** The periods offered, and their length. */
const PERIODS: Record<string, number> = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000, '90d': 90 * 86_400_000 };

/** Usage: the metering ledger by function and by day over a period, with totals and, when the platform has prices, an estimated cost. */
export function UsagePage({ api, route }: { api: Api; route: Route }): VNode {
  const period = route.query.get('since') ?? '';
  const since = period in PERIODS ? period : '30d';
  // The period's start as a timestamp, taken at each load, so a refresh moves the window along.
  const from = () => new Date(Date.now() - (PERIODS[since] ?? 0)).toISOString();
  const byFunction = useData((signal) => api.get<UsageReport>(withQuery('/api/v1/usage', { since: from(), by: 'function' }), signal), `f:${since}`, 30_000);
  const byDay = useData((signal) => api.get<UsageReport>(withQuery('/api/v1/usage', { since: from(), by: 'day' }), signal), `d:${since}`, 30_000);

  return html`<section>
    <h1>Usage</h1>
    <p class="row">Over the last
      ${Object.keys(PERIODS).map((p) => html` <a class=${p === since ? 'pill current' : 'pill'} href=${linkWithQuery(['usage'], { since: p })}>${p}</a>`)}
    </p>
    <h2>By function</h2>
    ${dataNote(byFunction, 'Usage')}
    ${byFunction.data ? html`<${UsageTable} report=${byFunction.data} keyLabel="Function" />` : null}
    <h2>By day</h2>
    ${dataNote(byDay, 'Usage')}
    ${byDay.data ? html`<${UsageTable} report=${byDay.data} keyLabel="Day" />` : null}
  </section>`;
}

function cells(f: UsageFigures, priced: boolean): VNode {
  return html`<td class="num">${count(f.invocations)}</td><td class="num">${count(f.errors)}</td>
    <td class="num">${decimal(f.gbSeconds)}</td><td class="num">${decimal(f.cpuSeconds)}</td>
    <td class="num">${count(f.billedMs)}</td><td class="num">${bytes(f.bytesIn)}</td><td class="num">${bytes(f.bytesOut)}</td>
    ${priced ? html`<td class="num">${money(f.estimatedCost)}</td>` : null}`;
}

function UsageTable({ report, keyLabel }: { report: UsageReport; keyLabel: string }): VNode {
  const priced = report.prices !== null && report.prices !== undefined;
  return html`<table class="data" data-testid=${`usage-${report.by}`}>
    <thead><tr><th>${keyLabel}</th><th class="num">Invocations</th><th class="num">Errors</th><th class="num">GB-s</th>
      <th class="num">CPU-s</th><th class="num">Billed ms</th><th class="num">Bytes in</th><th class="num">Bytes out</th>
      ${priced ? html`<th class="num">Est. cost</th>` : null}</tr></thead>
    <tbody>
      ${report.rows.length === 0 ? html`<tr><td colspan="9" class="muted">No usage in this period.</td></tr>` : null}
      ${report.rows.map((row) => html`<tr><td>${report.by === 'function' ? row.key : row.key.slice(0, report.by === 'day' ? 10 : 16)}</td>${cells(row, priced)}</tr>`)}
    </tbody>
    <tfoot><tr><th>Total</th>${cells(report.total, priced)}</tr></tfoot>
  </table>
  <p class="muted small">${time(report.since)} to ${time(report.until)}.
    ${priced ? ` Estimated at ${price(report.prices?.perMillionRequests)} per million requests and ${price(report.prices?.perGbSecond)} per GB-second.` : ' No prices set (nimbus up --price-per-million-requests --price-per-gb-second): no cost estimate.'}</p>`;
}
