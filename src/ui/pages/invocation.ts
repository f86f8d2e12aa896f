import type { VNode } from 'preact';
import type { LogList } from '../../api/wire.js';
import { type Api, ApiError, withQuery } from '../api.js';
import { durationOf, outcomeOf } from '../components/invocation-table.js';
import { LogLines } from '../components/log-tail.js';
import { dataNote } from '../components/notes.js';
import { Phases } from '../components/phases.js';
import { bytes, DASH, ms, time } from '../format.js';
import { html } from '../html.js';
import { type InvocationRecord, phasesOf } from '../observability.js';
import { link } from '../router.js';
import { useData } from '../use-data.js';

/** One invocation: its record (when the platform keeps one) and its log lines. */
export function InvocationPage({ api, id, functionHint }: { api: Api; id: string; functionHint: string | null }): VNode {
  const record = useData((signal) => api.get<InvocationRecord>(`/api/v1/invocations/${encodeURIComponent(id)}`, signal), id, 3000);
  const fnName = record.data?.function ?? functionHint;
  const logs = useData(
    async (signal) => {
      if (!fnName) return undefined;
      // `invocation` narrows the lines on platforms that index them by invocation; others ignore it.
      const list = await api.get<LogList>(withQuery(`/api/v1/functions/${encodeURIComponent(fnName)}/logs`, { invocation: id, limit: 10_000 }), signal);
      return list.logs.filter((line) => line.invocationId === id);
    },
    `${id}:${fnName ?? ''}`,
    3000,
  );
  const missing = record.error instanceof ApiError && record.error.code === 'INVOCATION_NOT_FOUND';

  return html`<section>
    <h1>Invocation <code>${id}</code></h1>
    ${missing
      ? html`<p class="note">No record of this invocation: it is older than the retention period (nimbus up --retain), or records are off.</p>`
      : dataNote(record, 'Invocation')}
    ${record.data ? html`<${Record} record=${record.data} />` : null}
    <h2>Log</h2>
    ${fnName ? dataNote(logs, 'Log') : html`<p class="note">Unknown function: no log to show.</p>`}
    ${logs.data ? html`<div data-testid="invocation-logs"><${LogLines} lines=${logs.data} empty="No log lines of this invocation (logs are kept per function up to a size bound; the oldest go first)." /></div>` : null}
  </section>`;
}

function Record({ record: r }: { record: InvocationRecord }): VNode {
  const m = r.metering;
  const rows: [string, unknown][] = [
    ['Function', html`<a href=${link('functions', r.function)}>${r.function}</a>${r.version ? ` v${r.version}` : ''}`],
    ['Status', html`<span class=${`status ${r.status}`}>${r.status}</span>`],
    ['Outcome', outcomeOf(r)],
    ['Source', r.trigger ? `${r.source} (trigger ${r.trigger})` : r.source],
    ['Request', r.request ? `${r.request.method} ${r.request.path}` : DASH],
    ['Created', time(r.createdAt)],
    ['Started', time(r.startedAt)],
    ['Finished', time(r.finishedAt)],
    ['Duration', `${ms(durationOf(r))}${m ? ` (billed ${ms(m.billedMs)})` : ''}`],
    ['Cold start', m ? (m.coldStart ? 'yes' : 'no') : DASH],
    ['Phases', html`<${Phases} phases=${phasesOf(r)} />`],
    ['Memory, GB-seconds', m ? `${m.memoryMb} MB, ${m.gbSeconds.toPrecision(3)} GB-s` : DASH],
    ['CPU time', m && m.cpuMs !== null ? ms(m.cpuMs) : DASH],
    ['Attempts', r.attempts ?? DASH],
    ['Next attempt', time(r.nextAttemptAt)],
    ['Bytes in / out', m ? `${bytes(m.bytesIn)} / ${bytes(m.bytesOut)}` : DASH],
  ];
  return html`<div data-testid="invocation-record">
    ${r.error ? html`<p class="note error">${r.error.code}: ${r.error.message}</p>` : null}
    <dl class="settings">${rows.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}
    ${r.response
      ? html`<div><dt>Response</dt><dd>${r.response.status}${r.response.truncated ? ' (truncated)' : ''}
          <pre class="body">${r.response.bodyEncoding === 'base64' ? `(base64) ${r.response.body}` : r.response.body || '(empty body)'}</pre></dd></div>`
      : null}</dl>
  </div>`;
}
