import type { InvocationEnded } from '../core/invocation.js';
import type { HistoryRecord } from '../store/history-types.js';

/** Longest path a record keeps (a query string can be long; the record is for finding an invocation). */
const MAX_PATH = 1000;

/**
 * Whether an invocation counts as failed, in records, the ledger's `errors` and the stats: the
 * platform answered with an error, the caller left first, or the function answered 400 or above
 * (as an async attempt's outcome counts it). One rule everywhere, so the figures agree.
 */
export function failed(ended: InvocationEnded): boolean {
  return ended.outcome !== 'response' || (ended.status ?? 0) >= 400;
}

/**
 * Milliseconds billed: the instance's start (cold starts) and handler time, rounded up to the
 * millisecond. Waiting for capacity is not billed; an invocation no instance served bills 0.
 */
export function billedMs(ended: InvocationEnded): number {
  return Math.ceil(ended.timings.startMs + ended.timings.handlerMs);
}

/** GB-seconds of a billed duration at a memory size: memoryMb / 1024 × billedMs / 1000. */
export function gbSeconds(memoryMb: number, billed: number): number {
  return (memoryMb / 1024) * (billed / 1000);
}

/** The history record of an ended invocation (done when a batch is written, off the invocation's path). */
export function historyRecordOf(ended: InvocationEnded): HistoryRecord {
  const billed = billedMs(ended);
  const { timings } = ended;
  const record: HistoryRecord = {
    id: ended.invocationId,
    attempt: ended.attempt,
    function: ended.function,
    version: ended.version,
    source: ended.source,
    method: ended.method,
    path: ended.path.length > MAX_PATH ? ended.path.slice(0, MAX_PATH) : ended.path,
    startedAt: ended.startedAt,
    endedAt: ended.startedAt + Math.round(timings.totalMs),
    durationMs: timings.totalMs,
    billedMs: billed,
    memoryMb: ended.memoryMb,
    gbSeconds: gbSeconds(ended.memoryMb, billed),
    bytesIn: ended.bytesIn,
    bytesOut: ended.bytesOut,
    coldStart: ended.coldStart,
    queueMs: timings.queueMs,
    startMs: timings.startMs,
    handlerMs: timings.handlerMs,
    outcome: ended.outcome,
    status: failed(ended) ? 'failed' : 'succeeded',
  };
  if (ended.cpuMs !== undefined) record.cpuMs = ended.cpuMs;
  if (ended.status !== undefined) record.httpStatus = ended.status;
  if (ended.error !== undefined) record.errorCode = ended.error.code;
  return record;
}
