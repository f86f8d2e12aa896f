import type { Database } from 'better-sqlite3';
import type { ErrorCode } from '../core/errors.js';
import type { InvocationSource } from '../core/invocation.js';
import type { HistoryRecord } from './history-types.js';

/** Records moved per step: bounds the memory of moving a large version 1 history. */
const CHUNK = 5000;

/** A row of version 1's `records` table (one row per record). */
interface V1Row {
  rowid: number;
  id: string;
  attempt: number;
  function: string;
  version: number;
  source: InvocationSource;
  method: string;
  path: string;
  started_at: number;
  ended_at: number;
  duration_ms: number;
  billed_ms: number;
  memory_mb: number;
  gb_seconds: number;
  cpu_ms: number | null;
  bytes_in: number;
  bytes_out: number;
  cold: number;
  queue_ms: number;
  start_ms: number;
  handler_ms: number;
  outcome: HistoryRecord['outcome'];
  status: HistoryRecord['status'];
  http_status: number | null;
  error_code: string | null;
}

/**
 * Moves the records of a version 1 history.db (a row each) into segments through `write`, which
 * stores without touching the ledger (it already counts them), then drops the old table and its
 * indexes. Runs inside the caller's transaction: an interrupted upgrade leaves version 1 as it was.
 */
export function migrateRecordsTable(db: Database, write: (records: HistoryRecord[]) => void): void {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'").get();
  if (!exists) return;
  const chunk = db.prepare<[number, number], V1Row>('SELECT rowid, * FROM records WHERE rowid > ? ORDER BY rowid LIMIT ?');
  for (let after = 0; ; ) {
    const rows = chunk.all(after, CHUNK);
    if (rows.length === 0) break;
    write(rows.map(recordOf));
    after = rows[rows.length - 1]!.rowid;
  }
  db.exec('DROP TABLE records');
}

function recordOf(row: V1Row): HistoryRecord {
  const record: HistoryRecord = {
    id: row.id,
    attempt: row.attempt,
    function: row.function,
    version: row.version,
    source: row.source,
    method: row.method,
    path: row.path,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    billedMs: row.billed_ms,
    memoryMb: row.memory_mb,
    gbSeconds: row.gb_seconds,
    bytesIn: row.bytes_in,
    bytesOut: row.bytes_out,
    coldStart: row.cold === 1,
    queueMs: row.queue_ms,
    startMs: row.start_ms,
    handlerMs: row.handler_ms,
    outcome: row.outcome,
    status: row.status,
  };
  if (row.cpu_ms !== null) record.cpuMs = row.cpu_ms;
  if (row.http_status !== null) record.httpStatus = row.http_status;
  if (row.error_code !== null) record.errorCode = row.error_code as ErrorCode;
  return record;
}
