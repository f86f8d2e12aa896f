import type { InvocationListQuery, InvocationView } from '../api/wire.js';
import type { NimbusClient } from './client.js';

/** The most invocations one page of `GET /api/v1/invocations` holds. */
export const MAX_PAGE = 1_000;
/** How many `invocations ls` and `dlq ls` show without --limit: one page of the API's default size. */
export const DEFAULT_LIST_LIMIT = 100;

/** What a listing asks for: filters, and how many (`all`: every page). */
export interface ListWanted extends Pick<InvocationListQuery, 'function' | 'status' | 'source' | 'since' | 'until'> {
  /** @default DEFAULT_LIST_LIMIT */
  limit?: number;
  all?: boolean;
}

/**
 * Invocations newest first, following `nextCursor` only as far as asked: one request when the
 * limit fits in a page, more for a larger limit or `all`. `more` says the platform may have
 * older ones that were not fetched.
 */
export async function listInvocationPages(client: NimbusClient, wanted: ListWanted): Promise<{ invocations: InvocationView[]; more: boolean }> {
  const target = wanted.all ? Infinity : (wanted.limit ?? DEFAULT_LIST_LIMIT);
  const filter = {
    ...(wanted.function !== undefined ? { function: wanted.function } : {}),
    ...(wanted.status !== undefined ? { status: wanted.status } : {}),
    ...(wanted.source !== undefined ? { source: wanted.source } : {}),
    ...(wanted.since !== undefined ? { since: wanted.since } : {}),
    ...(wanted.until !== undefined ? { until: wanted.until } : {}),
  };
  const invocations: InvocationView[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(MAX_PAGE, target - invocations.length);
    const page = await client.listInvocations({ ...filter, limit, ...(cursor !== undefined ? { cursor } : {}) });
    invocations.push(...page.invocations.slice(0, limit));
    // An empty page ends the walk whatever its cursor says: a listing must never spin.
    cursor = page.invocations.length > 0 ? (page.nextCursor ?? undefined) : undefined;
  } while (cursor !== undefined && invocations.length < target);
  return { invocations, more: cursor !== undefined };
}
