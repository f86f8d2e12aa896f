import type { InvocationMetering, InvocationView } from './wire.js';
import { ERRORS } from '../core/errors.js';
import type { AttemptTotals, HistoryRecord, MeteredFigures } from '../store/history-types.js';
import type { InvocationRecord } from '../store/invocation-types.js';
import { encodeBody } from '../async/destinations.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * An async invocation record as the API shows it: ISO times, the body as text or base64, and the
 * metering of its attempts when the history has them.
 */
export function invocationView(record: InvocationRecord, totals?: AttemptTotals): InvocationView {
  const response = record.response;
  return {
    id: record.id,
    function: record.function,
    source: totals?.source ?? (record.trigger ? 'trigger' : 'async'),
    version: record.version ?? null,
    status: record.status,
    attempts: record.attempts,
    createdAt: iso(record.createdAt) as string,
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    nextAttemptAt: iso(record.nextAttemptAt),
    error: record.error ?? null,
    response: response ? { status: response.status, headers: response.headers, ...encodeBody(response.body), truncated: response.truncated } : null,
    httpStatus: response?.status ?? null,
    request: { method: record.method, path: record.path },
    trigger: record.trigger ?? null,
    metering: totals ? meteringOf(totals) : null,
  };
}

/** A sync invocation's history record as the API shows it (one attempt, no body kept). */
export function historyView(record: HistoryRecord): InvocationView {
  const started = iso(record.startedAt) as string;
  return {
    id: record.id,
    function: record.function,
    source: record.source,
    version: record.version,
    status: record.status,
    attempts: record.attempt,
    createdAt: started,
    startedAt: started,
    finishedAt: iso(record.endedAt),
    nextAttemptAt: null,
    // The record keeps the code; the message is the catalogue's (the caller got the full one).
    error: record.errorCode ? { code: record.errorCode, message: ERRORS[record.errorCode].description } : null,
    response: null,
    httpStatus: record.httpStatus ?? null,
    request: { method: record.method, path: record.path },
    // Trigger events run through the queue: their records are the async ones.
    trigger: null,
    metering: meteringOf({ ...record, cpuMs: record.cpuMs }),
  };
}

function meteringOf(m: MeteredFigures): InvocationMetering {
  return {
    durationMs: round(m.durationMs),
    billedMs: m.billedMs,
    memoryMb: m.memoryMb,
    gbSeconds: m.gbSeconds,
    cpuMs: m.cpuMs === undefined ? null : round(m.cpuMs),
    bytesIn: m.bytesIn,
    bytesOut: m.bytesOut,
    coldStart: m.coldStart,
    queueMs: round(m.queueMs),
    startMs: round(m.startMs),
    handlerMs: round(m.handlerMs),
  };
}

/** Milliseconds to the microsecond: the monotonic clock's digits beyond are noise. */
const round = (ms: number): number => Math.round(ms * 1000) / 1000;
