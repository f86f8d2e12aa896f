import type { InvocationView } from './wire.js';
import type { InvocationRecord } from '../store/invocation-types.js';
import { encodeBody } from '../async/destinations.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** An invocation record as the API shows it: ISO times, the body as text or base64. */
export function invocationView(record: InvocationRecord): InvocationView {
  const response = record.response;
  return {
    id: record.id,
    function: record.function,
    version: record.version ?? null,
    status: record.status,
    attempts: record.attempts,
    createdAt: iso(record.createdAt) as string,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    nextAttemptAt: iso(record.nextAttemptAt),
    error: record.error ?? null,
    response: response ? { status: response.status, headers: response.headers, ...encodeBody(response.body), truncated: response.truncated } : null,
    request: { method: record.method, path: record.path },
    trigger: record.trigger ?? null,
  };
}
