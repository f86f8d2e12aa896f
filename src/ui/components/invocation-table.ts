import type { VNode } from 'preact';
import { between, DASH, ms, time } from '../format.js';
import { html } from '../html.js';
import { type InvocationRecord, phasesOf } from '../observability.js';
import { link, linkWithQuery } from '../router.js';
import { Phases } from './phases.js';

/** How long an invocation took: its metered duration, else its record's start to finish. */
export function durationOf(record: InvocationRecord): number | undefined {
  return record.metering?.durationMs ?? between(record.startedAt, record.finishedAt);
}

/** The outcome in a word: the HTTP status the function answered, or the platform's error code. */
export function outcomeOf(record: InvocationRecord): string {
  const code = record.error?.code;
  if (code) return code;
  const status = record.httpStatus ?? record.response?.status;
  return status === undefined || status === null ? DASH : String(status);
}

/** A page of invocation records, newest first; each opens its own page. */
export function InvocationTable({ records, showFunction = true }: { records: InvocationRecord[]; showFunction?: boolean }): VNode {
  if (records.length === 0) return html`<p class="note">No invocations recorded.</p>`;
  return html`<table class="data" data-testid="invocations">
    <thead><tr>
      <th>Id</th>${showFunction ? html`<th>Function</th>` : null}<th>Status</th><th>Outcome</th><th>Source</th>
      <th>Started</th><th class="num">Duration</th><th>Cold</th><th>Phases</th>
    </tr></thead>
    <tbody>
      ${records.map(
        (r) => html`<tr>
          <td><a href=${linkWithQuery(['invocations', r.id], { function: r.function })}><code>${r.id.slice(0, 12)}</code></a></td>
          ${showFunction ? html`<td><a href=${link('functions', r.function)}>${r.function}</a></td>` : null}
          <td><span class=${`status ${r.status}`}>${r.status}</span></td>
          <td>${outcomeOf(r)}</td>
          <td>${r.trigger ? `trigger ${r.trigger}` : r.source}</td>
          <td>${time(r.startedAt ?? r.createdAt)}</td>
          <td class="num">${ms(durationOf(r))}</td>
          <td>${r.metering ? (r.metering.coldStart ? 'yes' : 'no') : DASH}</td>
          <td><${Phases} phases=${phasesOf(r)} /></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
