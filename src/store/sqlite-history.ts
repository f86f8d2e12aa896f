import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import type { ErrorCode } from '../core/errors.js';
import type { InvocationSource } from '../core/invocation.js';
import type {
  AttemptTotals,
  HistoryQuery,
  HistoryRecord,
  HistoryRepository,
  HistoryRetention,
  UsageFigures,
  UsageQuery,
} from './history-types.js';
import type { Clock } from '../core/clock.js';
import { SqliteHandle } from './sqlite-handle.js';
import { HISTORY_SCHEMA, HISTORY_SCHEMA_VERSION, HISTORY_SQL, historyListSql } from './sqlite-history-sql.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/** File name of the history database inside the data directory. */
export const HISTORY_DB_FILE = 'history.db';

const HOUR_MS = 3_600_000;
/** The most records one `list` answers: a page of the API (1000) and one more, which says whether another page follows. */
const MAX_PAGE = 1001;

interface RecordRow {
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

type FigureRow = UsageFigures & { key: string | number };

/**
 * The invocation history and metering ledger in their own SQLite file (`<dataDir>/history.db`),
 * on a connection of their own: a write-heavy, loss-tolerant log kept apart from the store's
 * control writes (deploys, tokens, async records), so neither waits on the other's locks or
 * checkpoints. WAL with synchronous=NORMAL: a commit costs no fsync (the WAL is synced at
 * checkpoints), it survives the process being killed, and a power cut may lose the last commits.
 * The writer (src/telemetry/history-writer.ts) commits a batch at a time.
 */
export class SqliteHistory implements HistoryRepository {
  private readonly insert: Statement;
  private readonly addUsage: Statement;
  private readonly lists = new Map<string, Statement<[Record<string, unknown>], RecordRow>>();
  private readonly appendAll: (records: readonly HistoryRecord[]) => void;

  private constructor(
    private readonly handle: SqliteHandle,
    private readonly checkpointer: WalCheckpointer | undefined,
  ) {
    const db = handle.get();
    this.insert = db.prepare(HISTORY_SQL.insert);
    this.addUsage = db.prepare(HISTORY_SQL.addUsage);
    this.appendAll = db.transaction((records: readonly HistoryRecord[]) => {
      // The ledger's rows of this batch, added up in memory first: one upsert per function and hour.
      const hours = new Map<string, UsageFigures & { function: string; hour: number }>();
      for (const record of records) {
        if (this.insert.run(valuesOf(record)).changes === 0) continue;
        const hour = record.startedAt - (record.startedAt % HOUR_MS);
        const key = `${hour}:${record.function}`;
        let sum = hours.get(key);
        if (!sum) {
          sum = { function: record.function, hour, invocations: 0, errors: 0, gbSeconds: 0, cpuSeconds: 0, billedMs: 0, bytesIn: 0, bytesOut: 0 };
          hours.set(key, sum);
        }
        sum.invocations++;
        if (record.status === 'failed') sum.errors++;
        sum.gbSeconds += record.gbSeconds;
        sum.cpuSeconds += (record.cpuMs ?? 0) / 1000;
        sum.billedMs += record.billedMs;
        sum.bytesIn += record.bytesIn;
        sum.bytesOut += record.bytesOut;
      }
      for (const sum of hours.values()) this.addUsage.run(sum);
    });
  }

  /**
   * Opens (creating if needed) `<dataDir>/history.db`. With `checkpointOffLoop` (the platform's),
   * its WAL is checkpointed on a thread of its own, as the store's is: SQLite's automatic
   * checkpoint would copy pages and fsync inside a batch's commit, on the event loop.
   */
  static async open(dataDir: string, options: { checkpointOffLoop?: { clock: Clock; onError(message: string): void } } = {}): Promise<SqliteHistory> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, HISTORY_DB_FILE);
    // Owner-only before SQLite opens it: its -wal and -shm files take the same mode.
    await (await open(file, 'a', 0o600)).close();
    const db = new BetterSqlite3(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > HISTORY_SCHEMA_VERSION) throw new Error(`${file} has schema version ${version}, newer than this Nimbus knows (${HISTORY_SCHEMA_VERSION}); upgrade Nimbus`);
      db.exec(HISTORY_SCHEMA);
      db.pragma(`user_version = ${HISTORY_SCHEMA_VERSION}`);
      const off = options.checkpointOffLoop;
      return new SqliteHistory(new SqliteHandle(db), off && new WalCheckpointer(db, file, off.clock, off.onError));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async append(records: readonly HistoryRecord[]): Promise<void> {
    this.handle.get();
    if (records.length > 0) this.appendAll(records);
  }

  async list(query: HistoryQuery): Promise<HistoryRecord[]> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE) throw new RangeError(`list: limit must be an integer from 1 to ${MAX_PAGE}, got ${query.limit}`);
    const db = this.handle.get();
    const filters = { function: query.function !== undefined, status: query.status !== undefined, since: query.since !== undefined, until: query.until !== undefined, after: query.after !== undefined };
    const key = JSON.stringify(filters);
    let statement = this.lists.get(key);
    if (!statement) {
      statement = db.prepare<[Record<string, unknown>], RecordRow>(historyListSql(filters));
      this.lists.set(key, statement);
    }
    const params: Record<string, unknown> = { sources: JSON.stringify(query.sources), limit: query.limit };
    if (query.function !== undefined) params.function = query.function;
    if (query.status !== undefined) params.status = query.status;
    if (query.since !== undefined) params.since = query.since;
    if (query.until !== undefined) params.until = query.until;
    if (query.after !== undefined) Object.assign(params, { afterStartedAt: query.after.startedAt, afterId: query.after.id });
    return statement.all(params).map(recordOf);
  }

  async get(id: string): Promise<HistoryRecord | undefined> {
    const row = this.handle.get().prepare(HISTORY_SQL.get).get(id) as RecordRow | undefined;
    return row && recordOf(row);
  }

  async totalsOf(ids: readonly string[]): Promise<Map<string, AttemptTotals>> {
    const db = this.handle.get();
    const totals = new Map<string, AttemptTotals>();
    if (ids.length === 0) return totals;
    const json = JSON.stringify(ids);
    type Sum = Omit<AttemptTotals, 'coldStart' | 'queueMs' | 'startMs' | 'handlerMs' | 'source' | 'cpuMs'> & { cpuMs: number | null };
    const sums = db.prepare(HISTORY_SQL.totals).all(json) as Sum[];
    const lasts = new Map((db.prepare(HISTORY_SQL.lastAttempts).all(json) as Array<Pick<RecordRow, 'id' | 'cold' | 'queue_ms' | 'start_ms' | 'handler_ms' | 'source'>>).map((row) => [row.id, row]));
    for (const sum of sums) {
      const last = lasts.get(sum.id);
      totals.set(sum.id, {
        ...sum,
        cpuMs: sum.cpuMs ?? undefined,
        coldStart: last?.cold === 1,
        queueMs: last?.queue_ms ?? 0,
        startMs: last?.start_ms ?? 0,
        handlerMs: last?.handler_ms ?? 0,
        source: last?.source ?? 'async',
      });
    }
    return totals;
  }

  async usage(query: UsageQuery): Promise<{ rows: Array<UsageFigures & { key: string }>; total: UsageFigures }> {
    const db = this.handle.get();
    const sql = query.by === 'function' ? HISTORY_SQL.usageByFunction : query.by === 'hour' ? HISTORY_SQL.usageByHour : HISTORY_SQL.usageByDay;
    const raw = db.prepare(sql).all({ since: query.since, until: query.until, function: query.function ?? null }) as FigureRow[];
    const total: UsageFigures = { invocations: 0, errors: 0, gbSeconds: 0, cpuSeconds: 0, billedMs: 0, bytesIn: 0, bytesOut: 0 };
    const rows = raw.map((row) => {
      for (const name of Object.keys(total) as Array<keyof UsageFigures>) total[name] += row[name];
      return { ...row, key: typeof row.key === 'number' ? new Date(row.key).toISOString() : row.key };
    });
    return { rows, total };
  }

  async deleteFunction(fn: string): Promise<number> {
    return this.handle.get().prepare(HISTORY_SQL.deleteFunction).run(fn).changes;
  }

  async sweep(now: number, retention: HistoryRetention): Promise<number> {
    const db = this.handle.get();
    return db.transaction(() => {
      let removed = db.prepare(HISTORY_SQL.sweepExpired).run(now - retention.retainMs).changes;
      const excess = (db.prepare(HISTORY_SQL.count).pluck().get() as number) - retention.maxRecords;
      if (excess > 0) removed += db.prepare(HISTORY_SQL.sweepExcess).run(excess).changes;
      db.prepare(HISTORY_SQL.sweepLedger).run(now - retention.ledgerRetainMs);
      return removed;
    }).immediate();
  }

  async close(): Promise<void> {
    await this.checkpointer?.close();
    this.handle.close();
  }

  /** The open connection (tests read query plans through it). */
  get database(): Database {
    return this.handle.get();
  }
}

/** The insert's parameters, in RECORD_COLUMNS order. */
function valuesOf(r: HistoryRecord): unknown[] {
  return [
    r.id, r.attempt, r.function, r.version, r.source, r.method, r.path, r.startedAt, r.endedAt, r.durationMs, r.billedMs, r.memoryMb, r.gbSeconds,
    r.cpuMs ?? null, r.bytesIn, r.bytesOut, r.coldStart ? 1 : 0, r.queueMs, r.startMs, r.handlerMs, r.outcome, r.status, r.httpStatus ?? null, r.errorCode ?? null,
  ];
}

function recordOf(row: RecordRow): HistoryRecord {
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
