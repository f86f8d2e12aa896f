import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type FunctionList, INVOCATION_STATUSES } from '../../api/wire.js';
import { type Api, withQuery } from '../api.js';
import { InvocationTable } from '../components/invocation-table.js';
import { dataNote } from '../components/notes.js';
import { html } from '../html.js';
import type { InvocationPage, InvocationRecord } from '../observability.js';
import { linkWithQuery, type Route } from '../router.js';
import { useData } from '../use-data.js';

/** Where invocations come from (records of every invocation carry it). */
const SOURCES = ['http', 'async', 'trigger'];

const PAGE = 50;

/** Invocations, newest first, filtered by function, status and source (kept in the URL). */
export function InvocationsPage({ api, route }: { api: Api; route: Route }): VNode {
  const filter = { function: route.query.get('function') ?? '', status: route.query.get('status') ?? '', source: route.query.get('source') ?? '' };
  const key = JSON.stringify(filter);
  const functions = useData((signal) => api.get<FunctionList>('/api/v1/functions', signal), 'functions');
  const first = useData((signal) => api.get<InvocationPage>(withQuery('/api/v1/invocations', { ...filter, limit: PAGE }), signal), key, 5000);
  // Pages loaded with "more" stay below the first one (which refreshes) until the filter changes.
  const [more, setMore] = useState<{ records: InvocationRecord[]; cursor: string | null }>({ records: [], cursor: null });
  useEffect(() => setMore({ records: [], cursor: null }), [key]);
  const cursor = more.records.length > 0 ? more.cursor : (first.data?.nextCursor ?? null);

  const loadMore = async () => {
    if (!cursor) return;
    const page = await api.get<InvocationPage>(withQuery('/api/v1/invocations', { ...filter, limit: PAGE, cursor }));
    setMore((old) => ({ records: [...old.records, ...page.invocations], cursor: page.nextCursor }));
  };
  const change = (field: string) => (event: Event) => {
    location.hash = linkWithQuery(['invocations'], { ...filter, [field]: (event.target as HTMLSelectElement).value });
  };
  const select = (field: 'function' | 'status' | 'source', label: string, options: readonly string[]) =>
    html`<label>${label} <select name=${field} value=${filter[field]} onChange=${change(field)}>
      <option value="">any</option>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select></label>`;

  return html`<section>
    <h1>Invocations</h1>
    <form class="filters row" onSubmit=${(e: Event) => e.preventDefault()}>
      ${select('function', 'Function', (functions.data?.functions ?? []).map((f) => f.name).concat(filter.function && !functions.data?.functions.some((f) => f.name === filter.function) ? [filter.function] : []))}
      ${select('status', 'Status', INVOCATION_STATUSES)}
      ${select('source', 'Source', SOURCES)}
    </form>
    ${dataNote(first, 'Invocations')}
    ${first.data ? html`<${InvocationTable} records=${[...first.data.invocations, ...more.records]} />` : null}
    ${cursor ? html`<button type="button" onClick=${loadMore}>More</button>` : null}
  </section>`;
}
