/**
 * Reading a function's async invocation records through the management API
 * (`GET /api/v1/invocations?function=&source=async&status=&limit=&cursor=`, newest first,
 * paginated). Only async ones: the listing holds the function's sync invocations too (the
 * warm-up requests), which are not part of what is measured.
 */
import { apiGet } from './nimbus.js';

/** One page of the listing, the fields read here. */
interface Page {
  invocations: Array<{ finishedAt?: string | null }>;
  nextCursor: string | null;
}

function listPath(fn: string, status: string, limit: number, cursor?: string): string {
  const query = new URLSearchParams({ function: fn, source: 'async', status, limit: String(limit) });
  if (cursor !== undefined) query.set('cursor', cursor);
  return `/api/v1/invocations?${query.toString()}`;
}

/**
 * Whether any invocation of `fn` is still queued, running or waiting for a retry: one record of
 * each status asked for, each an index read for the platform.
 */
export async function anyPending(origin: string, fn: string): Promise<boolean> {
  for (const status of ['queued', 'running', 'retrying']) {
    const page = (await apiGet(origin, listPath(fn, status, 1))) as Page;
    if (page.invocations.length > 0) return true;
  }
  return false;
}

/** The finishedAt (epoch ms) of every record of `fn` with `status`, read in pages of 1,000. */
export async function finishedTimes(origin: string, fn: string, status: string): Promise<number[]> {
  const times: number[] = [];
  let cursor: string | undefined;
  do {
    const page = (await apiGet(origin, listPath(fn, status, 1000, cursor))) as Page;
    for (const record of page.invocations) times.push(Date.parse(record.finishedAt ?? ''));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return times;
}
