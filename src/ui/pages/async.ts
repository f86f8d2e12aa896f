import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { FunctionList, RedriveResult } from '../../api/wire.js';
import { type Api, withQuery } from '../api.js';
import { InvocationTable } from '../components/invocation-table.js';
import { dataNote } from '../components/notes.js';
import { count, DASH } from '../format.js';
import { html } from '../html.js';
import { samplesOf } from '../metrics-text.js';
import type { InvocationPage, InvocationRecord } from '../observability.js';
import { link } from '../router.js';
import { useData } from '../use-data.js';

/** Backlog by state and dead letters, per function, from the platform's gauges. */
interface Backlog {
  due: number;
  delayed: number;
  leased: number;
  dead: number;
}

async function loadBacklog(api: Api, signal: AbortSignal): Promise<Map<string, Backlog>> {
  const text = await (await api.fetch('/metrics', signal)).text();
  const backlog = new Map<string, Backlog>();
  const of = (name: string) => backlog.get(name) ?? backlog.set(name, { due: 0, delayed: 0, leased: 0, dead: 0 }).get(name)!;
  for (const s of samplesOf(text, 'nimbus_async_backlog')) {
    const state = s.labels.state as keyof Backlog | undefined;
    if (s.labels.function && (state === 'due' || state === 'delayed' || state === 'leased')) of(s.labels.function)[state] = s.value;
  }
  for (const s of samplesOf(text, 'nimbus_dead_letters')) if (s.labels.function) of(s.labels.function).dead = s.value;
  return backlog;
}

/** Async work: each function's backlog, and its dead letters with redrive. */
export function AsyncPage({ api }: { api: Api }): VNode {
  const functions = useData((signal) => api.get<FunctionList>('/api/v1/functions', signal), 'functions', 5000);
  const backlog = useData((signal) => loadBacklog(api, signal), 'backlog', 5000);
  const dead = useData((signal) => api.get<InvocationPage>(withQuery('/api/v1/invocations', { status: 'dead', limit: 1000 }), signal), 'dead', 5000);
  // The outcome of the last redrive lives here, not in the function's section: a redrive that
  // empties a function's dead letters removes its section at the next reload.
  const [message, setMessage] = useState<Message | undefined>(undefined);
  const byFunction = new Map<string, InvocationRecord[]>();
  for (const r of dead.data?.invocations ?? []) byFunction.set(r.function, [...(byFunction.get(r.function) ?? []), r]);

  return html`<section>
    <h1>Async</h1>
    <h2>Backlog</h2>
    ${dataNote(functions, 'Functions')}
    ${dataNote(backlog, 'Backlog')}
    <table class="data" data-testid="backlog">
      <thead><tr><th>Function</th><th class="num">Due</th><th class="num">Delayed</th><th class="num">Running</th><th class="num">Dead letters</th><th class="num">Async concurrency</th></tr></thead>
      <tbody>
        ${(functions.data?.functions ?? []).map((fn) => {
          const b = backlog.data?.get(fn.name);
          return html`<tr><td><a href=${link('functions', fn.name)}>${fn.name}</a></td>
            <td class="num">${b ? count(b.due) : DASH}</td><td class="num">${b ? count(b.delayed) : DASH}</td>
            <td class="num">${b ? count(b.leased) : DASH}</td><td class="num">${b ? count(b.dead) : DASH}</td>
            <td class="num">${fn.asyncConcurrency === 0 ? 'held (0)' : fn.asyncConcurrency}</td></tr>`;
        })}
      </tbody>
    </table>
    <h2>Dead letters</h2>
    ${dataNote(dead, 'Dead letters')}
    ${message ? html`<p class=${message.error ? 'note error' : 'note'} role="status" data-testid="redrive-message">${message.text}</p>` : null}
    ${dead.data && byFunction.size === 0 ? html`<p class="note">No dead letters.</p>` : null}
    ${[...byFunction].map(
      ([name, records]) =>
        html`<${DeadLetters} key=${name} api=${api} name=${name} records=${records} onDone=${(done: Message) => {
          setMessage(done);
          if (done.error) return;
          // Both at once, so the counts and the list agree.
          dead.reload();
          backlog.reload();
        }} />`,
    )}
  </section>`;
}

/** What a redrive did, or why it was refused. */
interface Message {
  text: string;
  error: boolean;
}

/** One function's dead letters: redrive the selected ones, or all of them (scope deploy). */
function DeadLetters({ api, name, records, onDone }: { api: Api; name: string; records: InvocationRecord[]; onDone: (message: Message) => void }): VNode {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const redrive = async (body: { ids: string[] } | { all: true }) => {
    try {
      const result = await api.post<RedriveResult>(`/api/v1/functions/${encodeURIComponent(name)}/dlq/redrive`, body);
      setSelected(new Set());
      onDone({ text: `${name}: queued again: ${result.redriven.length}.`, error: false });
    } catch (err) {
      onDone({ text: `${name}: ${err instanceof Error ? err.message : String(err)}`, error: true });
    }
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  return html`<div class="dead-letters" data-testid=${`dead-${name}`}>
    <h3><a href=${link('functions', name)}>${name}</a> <span class="muted">(${records.length})</span></h3>
    <ul class="select-list">
      ${records.map((r) => html`<li><label><input type="checkbox" checked=${selected.has(r.id)} onChange=${() => toggle(r.id)} /> <code>${r.id.slice(0, 12)}</code> ${r.error?.code ?? r.response?.status ?? ''}</label></li>`)}
    </ul>
    <details><summary>Records</summary><${InvocationTable} records=${records} showFunction=${false} /></details>
    <div class="row">
      <button type="button" disabled=${selected.size === 0} onClick=${() => redrive({ ids: [...selected] })}>Redrive selected (${selected.size})</button>
      <button type="button" onClick=${() => redrive({ all: true })}>Redrive all</button>
    </div>
  </div>`;
}
