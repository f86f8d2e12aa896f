import type { AttemptTotals, HistoryQuery, HistoryRecord } from './history-types.js';
import type { RecordBatchReader } from './record-batch.js';

/**
 * The record-level rules of SqliteHistory: which sync records are found by id range, how a
 * listing filters and orders a segment's records, and how an async invocation's attempts add up.
 */

/** A sync record is found by id range when its UUIDv7 id was made this close to its start. */
export const ID_NEAR_START_MS = 1000;
/** The widest time span of the ids found by range in one segment (bounds a lookup's scan). */
export const ID_RANGE_SPAN_MS = 60_000;

/**
 * Marks the records that need no record_ids row: sync invocations, whose UUIDv7 id was made as
 * they started, so that their segment's id range (min_id, max_id) finds them. That spares the
 * writer an index entry per sync invocation, the bulk of the traffic. Those records are appended
 * once, by their invoker, and are not looked for among earlier ones. Answers, per row, whether it
 * was marked (1), and the range of the marked ids. Reads the ids' time digits from the batch's
 * bytes: making a string of every id cost the history thread more than the rest of the check.
 */
export function markFoundByRange(reader: RecordBatchReader, rows: readonly number[]): { byRange: Uint8Array; ids: [string | null, string | null] } {
  // Plain loops over typed arrays: this runs for every record the history thread stores.
  const count = rows.length;
  const times = new Float64Array(count).fill(NaN);
  let newest = -Infinity;
  for (let k = 0; k < count; k++) {
    const i = rows[k]!;
    if (reader.source(i) !== 'http') continue;
    const made = reader.uuidV7Time(i);
    if (made === undefined || Math.abs(reader.startedAt(i) - made) > ID_NEAR_START_MS) continue;
    times[k] = made;
    if (made > newest) newest = made;
  }
  const byRange = new Uint8Array(count);
  let oldest = Infinity;
  for (let k = 0; k < count; k++) {
    // Ids much older than the segment's newest go to record_ids: one id range spans at most ID_RANGE_SPAN_MS.
    if (!(times[k]! >= newest - ID_RANGE_SPAN_MS)) continue;
    reader.markByRange(rows[k]!);
    byRange[k] = 1;
    if (times[k]! < oldest) oldest = times[k]!;
  }
  // Ids sort by their time first: the lowest and highest are among those of the oldest and newest time.
  const ends: string[] = [];
  for (let k = 0; k < count; k++) {
    if (byRange[k] === 1 && (times[k] === oldest || times[k] === newest)) ends.push(reader.id(rows[k]!));
  }
  return { byRange, ids: idRange(ends) };
}

/** The lowest and highest of ids (undefined ones skipped), or nulls when there are none. */
export function idRange(ids: ReadonlyArray<string | undefined>): [string | null, string | null] {
  let min: string | null = null;
  let max: string | null = null;
  for (const id of ids) {
    if (id === undefined) continue;
    if (min === null || id < min) min = id;
    if (max === null || id > max) max = id;
  }
  return [min, max];
}

/** The positions of a segment's records, earliest started first. */
export function oldestFirst(segment: RecordBatchReader): number[] {
  return Array.from({ length: segment.count }, (_, i) => i).sort((a, b) => segment.startedAt(a) - segment.startedAt(b));
}

/** Whether record `i` of a segment answers the query (the segment's function was matched by SQL). */
export function recordFilter(query: HistoryQuery): (segment: RecordBatchReader, i: number) => boolean {
  const sources = new Set(query.sources);
  const since = query.since ?? -Infinity;
  const until = query.until ?? Infinity;
  const after = query.after;
  return (segment, i) => {
    const startedAt = segment.startedAt(i);
    if (startedAt < since || startedAt > until || !sources.has(segment.source(i))) return false;
    if (query.status !== undefined && segment.status(i) !== query.status) return false;
    return !after || startedAt < after.startedAt || (startedAt === after.startedAt && segment.id(i) < after.id);
  };
}

/** Newest first; equal starts by id, descending. */
export function newestFirst(a: HistoryRecord, b: HistoryRecord): number {
  return b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The totals so far with one more attempt (attempts arrive in order, so the last one's timings win). */
export function addAttempt(sum: AttemptTotals | undefined, r: HistoryRecord): AttemptTotals {
  const cpuMs = r.cpuMs === undefined ? sum?.cpuMs : (sum?.cpuMs ?? 0) + r.cpuMs;
  return {
    id: r.id,
    attempts: (sum?.attempts ?? 0) + 1,
    durationMs: (sum?.durationMs ?? 0) + r.durationMs,
    billedMs: (sum?.billedMs ?? 0) + r.billedMs,
    memoryMb: Math.max(sum?.memoryMb ?? 0, r.memoryMb),
    gbSeconds: (sum?.gbSeconds ?? 0) + r.gbSeconds,
    cpuMs,
    bytesIn: (sum?.bytesIn ?? 0) + r.bytesIn,
    bytesOut: (sum?.bytesOut ?? 0) + r.bytesOut,
    coldStart: r.coldStart,
    queueMs: r.queueMs,
    startMs: r.startMs,
    handlerMs: r.handlerMs,
    source: r.source,
  };
}
