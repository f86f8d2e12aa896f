import type { InvocationView } from './wire.js';
import type { InvocationSource } from '../core/invocation.js';
import type { HistoryRecord, HistoryRepository } from '../store/history-types.js';
import type { InvocationCursor, InvocationRecord, InvocationRepository, InvocationStatus } from '../store/invocation-types.js';
import { historyView, invocationView } from './invocation-view.js';

/** The sources a listing may filter on. */
export const SOURCES = ['http', 'async', 'trigger'] as const satisfies readonly InvocationSource[];

/**
 * The sources whose invocations have no record of their own besides the history. Async and trigger
 * invocations run through the queue (trigger events are accepted as async invocations) and have
 * their store record, which the listing shows instead of their attempts.
 */
const HISTORY_ONLY: readonly InvocationSource[] = ['http'];

/** A listing of `GET /api/v1/invocations`, checked. Times are epoch ms, both bounds inclusive. */
export interface ListQuery {
  function?: string;
  status?: InvocationStatus;
  source?: InvocationSource;
  since?: number;
  until?: number;
  limit: number;
  after?: InvocationCursor;
}

/** The largest id, by string order, of any id the platform makes (ids are ASCII). */
const AFTER_EVERY_ID = '\u{10ffff}';

/**
 * One page of every invocation, newest first: the async records of the store (async and trigger
 * invocations, each once, with its attempts' metering from the history) merged with the history's
 * sync records (the history's queued attempts are not listed on their own). Both are read in the same order (time,
 * then id, descending; an async record's time is its creation, a history record's its start), a
 * page's worth from each, and merged; the cursor is the last listed (time, id), which both
 * sources continue from.
 */
export async function listInvocations(
  store: InvocationRepository,
  history: HistoryRepository | undefined,
  query: ListQuery,
): Promise<{ views: InvocationView[]; next?: InvocationCursor }> {
  const { limit } = query;
  const wantAsync = query.source !== 'http';
  const wantHistory = history !== undefined && (query.source === undefined || query.source === 'http') && (query.status === undefined || query.status === 'succeeded' || query.status === 'failed');

  let asyncRecords: InvocationRecord[] = [];
  let asyncHasMore = false;
  if (wantAsync) {
    // `until` is a cursor just after the last instant it allows; the store reads newest first, so
    // `since` ends the page at the first record older than it.
    const untilCursor = query.until === undefined ? undefined : { createdAt: query.until, id: AFTER_EVERY_ID };
    const after = earlier(query.after, untilCursor);
    const page = await store.list({ limit, ...(query.function !== undefined ? { function: query.function } : {}), ...(query.status !== undefined ? { status: query.status } : {}), ...(after ? { after } : {}) });
    asyncRecords = page.records;
    asyncHasMore = page.next !== undefined;
    if (query.since !== undefined) {
      const since = query.since;
      const kept = asyncRecords.filter((r) => r.createdAt >= since);
      if (kept.length < asyncRecords.length) asyncHasMore = false;
      asyncRecords = kept;
    }
  }

  let historyRecords: HistoryRecord[] = [];
  if (wantHistory) {
    historyRecords = await history.list({
      sources: HISTORY_ONLY,
      limit: limit + 1,
      ...(query.function !== undefined ? { function: query.function } : {}),
      ...(query.status === 'succeeded' || query.status === 'failed' ? { status: query.status } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.until !== undefined ? { until: query.until } : {}),
      ...(query.after ? { after: { startedAt: query.after.createdAt, id: query.after.id } } : {}),
    });
  }

  type Item = { time: number; id: string; async?: InvocationRecord; past?: HistoryRecord };
  const items: Item[] = [
    ...asyncRecords.map((r): Item => ({ time: r.createdAt, id: r.id, async: r })),
    ...historyRecords.map((r): Item => ({ time: r.startedAt, id: r.id, past: r })),
  ].sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const page = items.slice(0, limit);
  const hasMore = items.length > limit || asyncHasMore;

  const asyncIds = page.flatMap((item) => (item.async ? [item.id] : []));
  const totals = history && asyncIds.length > 0 ? await history.totalsOf(asyncIds) : undefined;
  let views = page.map((item) => (item.async ? invocationView(item.async, totals?.get(item.id)) : historyView(item.past!)));
  // The store does not know an invocation's source; its attempts do. A page may come out short, the
  // cursor still continues after the last record read.
  if (query.source === 'async' || query.source === 'trigger') views = views.filter((view) => view.source === query.source);
  const last = page.at(-1);
  return hasMore && last ? { views, next: { createdAt: last.time, id: last.id } } : { views };
}

/** The cursor further back in the listing order of the two (undefined ones ignored). */
function earlier(a: InvocationCursor | undefined, b: InvocationCursor | undefined): InvocationCursor | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? a : b;
  return a.id < b.id ? a : b;
}
