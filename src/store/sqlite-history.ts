import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import type {
  AttemptTotals,
  HistoryQuery,
  HistoryRecord,
  HistoryRepository,
  HistoryRetention,
  UsageFigures,
  UsageQuery,
} from './history-types.js';
import { RecordBatchReader, batchOf, numberBytes, textBytes, type RecordBatch } from './record-batch.js';
import { SegmentFiles } from './segment-files.js';
import { ID_RANGE_SPAN_MS, addAttempt, idRange, markFoundByRange, newestFirst, oldestFirst, recordFilter } from './sqlite-history-records.js';
import { SqliteHandle } from './sqlite-handle.js';
import { HISTORY_SCHEMA, HISTORY_SCHEMA_VERSION, HISTORY_SQL, SOURCE_BITS, historyListSql } from './sqlite-history-sql.js';
import { migrateRecordsTable } from './sqlite-history-v1.js';
import { uuidV7Floor, uuidV7Time } from './time-ordered-id.js';

/** File name of the history database inside the data directory. */
export const HISTORY_DB_FILE = 'history.db';
/** The folder of the segment files, beside history.db. */
export const SEGMENTS_DIR = 'history-segments';

const HOUR_MS = 3_600_000;
/** The statements of HISTORY_SQL that select one column. */
const SINGLE_COLUMN = new Set(['nextSeq', 'segmentsHoldingId', 'segmentsOf', 'expiredSegments', 'recordCount', 'oldestSegments', 'oldestFile']);
/** The most records one `list` answers: a page of the API (1000) and one more, which says whether another page follows. */
const MAX_PAGE = 1001;

/** A row of `segments`. */
export interface SegmentRow {
  seq: number;
  function: string;
  first_started: number;
  last_started: number;
  count: number;
  file: number;
  offset: number;
  numbers_bytes: number;
  text_bytes: number;
  dict: string;
}

type FigureRow = UsageFigures & { key: string | number };
type LedgerSum = UsageFigures & { function: string; hour: number };

/**
 * The invocation history and metering ledger in their own SQLite file (`<dataDir>/history.db`),
 * on connections of their own: a write-heavy, loss-tolerant log kept apart from the store's
 * control writes (deploys, tokens, async records), so neither waits on the other's locks or
 * checkpoints. WAL with synchronous=NORMAL: a commit costs no fsync (the WAL is synced at
 * checkpoints), it survives the process being killed, and a power cut may lose the last commits.
 *
 * Records are stored a segment at a time: a function's records of one appended batch, packed
 * (record-batch.ts), appended to a segment file (segment-files.ts), and one row here saying where.
 * Listings read segments newest first and filter their records. `get` and `totalsOf` find async
 * and trigger records through `record_ids`, and sync records through their segment's id range
 * (sqlite-history-records.ts, markFoundByRange). See docs/metering.md.
 */
export class SqliteHistory implements HistoryRepository {
  private readonly statements: { [K in keyof typeof HISTORY_SQL]: Statement };
  private readonly lists = new Map<string, Statement<[Record<string, unknown>], SegmentRow>>();
  private readonly appendAll: (batch: RecordBatch) => void;

  private constructor(
    private readonly handle: SqliteHandle,
    private readonly files: SegmentFiles,
  ) {
    const db = handle.get();
    // Statements that select one column answer its values, not rows (set once, not per call).
    this.statements = Object.fromEntries(
      Object.entries(HISTORY_SQL).map(([name, sql]) => {
        const statement = db.prepare(sql);
        return [name, SINGLE_COLUMN.has(name) ? statement.pluck() : statement];
      }),
    ) as typeof this.statements;
    this.appendAll = db.transaction((batch: RecordBatch) => {
      for (const [fn, segment, rows] of this.writeSegments(batch)) {
        // The ledger's rows of this batch, added up in memory first: one upsert per function and hour.
        const hours = new Map<number, LedgerSum>();
        for (const i of rows) {
          const startedAt = segment.startedAt(i);
          const hour = startedAt - (startedAt % HOUR_MS);
          let sum = hours.get(hour);
          if (!sum) hours.set(hour, (sum = { function: fn, hour, invocations: 0, errors: 0, gbSeconds: 0, cpuSeconds: 0, billedMs: 0, bytesIn: 0, bytesOut: 0 }));
          segment.addUsage(i, sum);
        }
        for (const sum of hours.values()) this.statements.addUsage.run(sum);
      }
    });
  }

  /** Opens (creating if needed, and moving a version 1 file's records into segments) `<dataDir>/history.db`. */
  static async open(dataDir: string): Promise<SqliteHistory> {
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
      const history = new SqliteHistory(new SqliteHandle(db), new SegmentFiles(join(dataDir, SEGMENTS_DIR)));
      if (version === 1) {
        db.transaction(() =>
          migrateRecordsTable(db, (records) => {
            const batch = batchOf(records);
            if (batch) history.writeSegments(batch);
          }),
        )();
      }
      db.pragma(`user_version = ${HISTORY_SCHEMA_VERSION}`);
      return history;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async append(records: readonly HistoryRecord[]): Promise<void> {
    this.handle.get();
    const batch = batchOf(records);
    if (batch) this.appendAll(batch);
  }

  async appendBatch(batch: RecordBatch): Promise<void> {
    this.handle.get();
    if (batch.count > 0) this.appendAll(batch);
  }

  /**
   * Stores the records of a batch not stored yet (by id and attempt), a segment per function,
   * inside the caller's transaction; answers, per function, the rows stored and the reader to read them.
   */
  private writeSegments(batch: RecordBatch): Array<[string, RecordBatchReader, number[]]> {
    const reader = new RecordBatchReader(batch);
    const { nextSeq, insertId } = this.statements;
    const stored: Array<[string, RecordBatchReader, number[]]> = [];
    const groups = reader.rowsByFunction();
    for (const [fn, rows] of groups) {
      const seq = nextSeq.get() as number;
      const { byRange, ids } = markFoundByRange(reader, rows);
      const kept: number[] = [];
      // A record's position is its index among the records kept (a duplicate takes none).
      rows.forEach((i, k) => {
        if (byRange[k] === 1 || insertId.run(reader.id(i), reader.attempt(i), seq, kept.length).changes === 1) kept.push(i);
      });
      if (kept.length === 0) continue;
      // The usual batch, all new and of one function, is stored as it came.
      const segment = kept.length === batch.count ? reader : new RecordBatchReader(reader.select(kept));
      this.insertSegment(seq, fn, segment, ids);
      stored.push([fn, reader, kept]);
    }
    return stored;
  }

  /** Stores a segment; `ids` (min and max of the records found by id range) when the caller has them. */
  private insertSegment(seq: number, fn: string, segment: RecordBatchReader, ids?: [string | null, string | null]): void {
    let first = Infinity;
    let last = -Infinity;
    let failed = 0;
    let sources = 0;
    const [minId, maxId] = ids ?? idRange(Array.from({ length: segment.count }, (_, i) => (segment.byRange(i) ? segment.id(i) : undefined)));
    for (let i = 0; i < segment.count; i++) {
      const startedAt = segment.startedAt(i);
      if (startedAt < first) first = startedAt;
      if (startedAt > last) last = startedAt;
      if (segment.status(i) === 'failed') failed++;
      sources |= SOURCE_BITS[segment.source(i)];
    }
    const { batch } = segment;
    const numbers = numberBytes(batch);
    const text = textBytes(batch);
    const place = this.files.append([numbers, text]);
    this.statements.insertSegment.run(seq, fn, first, last, segment.count, failed, sources, minId, maxId, place.file, place.offset, numbers.byteLength, text.byteLength, JSON.stringify(batch.dict));
  }

  async list(query: HistoryQuery): Promise<HistoryRecord[]> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE) throw new RangeError(`list: limit must be an integer from 1 to ${MAX_PAGE}, got ${query.limit}`);
    const db = this.handle.get();
    const upper = Math.min(query.until ?? Infinity, query.after?.startedAt ?? Infinity);
    const filters = { function: query.function !== undefined, status: query.status, since: query.since !== undefined, upper: upper !== Infinity };
    const key = JSON.stringify(filters);
    let statement = this.lists.get(key);
    if (!statement) {
      statement = db.prepare<[Record<string, unknown>], SegmentRow>(historyListSql(filters));
      this.lists.set(key, statement);
    }
    const params: Record<string, unknown> = { sources: query.sources.reduce((bits, source) => bits | SOURCE_BITS[source], 0) };
    if (query.function !== undefined) params.function = query.function;
    if (query.since !== undefined) params.since = query.since;
    if (upper !== Infinity) params.upper = upper;
    const wanted = recordFilter(query);
    let found: HistoryRecord[] = [];
    let sorted = true;
    for (const row of statement.iterate(params)) {
      if (found.length >= query.limit) {
        if (!sorted) {
          found = found.sort(newestFirst).slice(0, query.limit);
          sorted = true;
        }
        // Segments come newest record first: once one's newest is older than the last record
        // kept, neither it nor any after it can hold a record of this page.
        if (row.last_started < found[query.limit - 1]!.startedAt) break;
      }
      // Read from its file only once the row can hold a record of this page.
      const segment = this.read(row);
      if (!segment) continue;
      for (let i = 0; i < segment.count; i++) {
        if (!wanted(segment, i)) continue;
        found.push(segment.record(i));
        sorted = false;
      }
    }
    return found.sort(newestFirst).slice(0, query.limit);
  }

  async get(id: string): Promise<HistoryRecord | undefined> {
    this.handle.get();
    const at = this.statements.lastAttempt.get(id) as { seq: number; pos: number } | undefined;
    if (at) return this.segment(at.seq)?.record(at.pos);
    return this.foundByRange(id);
  }

  /** A sync invocation's record, through the id ranges of the segments (see markFoundByRange). */
  private foundByRange(id: string): HistoryRecord | undefined {
    const made = uuidV7Time(id);
    if (made === undefined) return undefined;
    const seqs = this.statements.segmentsHoldingId.all({ floor: uuidV7Floor(made - ID_RANGE_SPAN_MS), id }) as number[];
    for (const seq of seqs) {
      const segment = this.segment(seq);
      for (let i = 0; segment && i < segment.count; i++) if (segment.byRange(i) && segment.id(i) === id) return segment.record(i);
    }
    return undefined;
  }

  async totalsOf(ids: readonly string[]): Promise<Map<string, AttemptTotals>> {
    this.handle.get();
    const totals = new Map<string, AttemptTotals>();
    if (ids.length === 0) return totals;
    const segments = new Map<number, RecordBatchReader | undefined>();
    const attempts = this.statements.attemptsOf.all(JSON.stringify(ids)) as Array<{ id: string; seq: number; pos: number }>;
    for (const { id, seq, pos } of attempts) {
      if (!segments.has(seq)) segments.set(seq, this.segment(seq));
      const record = segments.get(seq)?.record(pos);
      if (record) totals.set(id, addAttempt(totals.get(id), record));
    }
    return totals;
  }

  async usage(query: UsageQuery): Promise<{ rows: Array<UsageFigures & { key: string }>; total: UsageFigures }> {
    this.handle.get();
    const { usageByFunction, usageByHour, usageByDay } = this.statements;
    const statement = query.by === 'function' ? usageByFunction : query.by === 'hour' ? usageByHour : usageByDay;
    const raw = statement.all({ since: query.since, until: query.until, function: query.function ?? null }) as FigureRow[];
    const total: UsageFigures = { invocations: 0, errors: 0, gbSeconds: 0, cpuSeconds: 0, billedMs: 0, bytesIn: 0, bytesOut: 0 };
    const rows = raw.map((row) => {
      for (const name of Object.keys(total) as Array<keyof UsageFigures>) total[name] += row[name];
      return { ...row, key: typeof row.key === 'number' ? new Date(row.key).toISOString() : row.key };
    });
    return { rows, total };
  }

  async deleteFunction(fn: string): Promise<number> {
    const db = this.handle.get();
    const removed = db.transaction(() => {
      let removed = 0;
      for (const seq of this.statements.segmentsOf.all(fn) as number[]) removed += this.keepOf(seq, () => false);
      return removed;
    }).immediate();
    this.removeDeadFiles();
    return removed;
  }

  async sweep(now: number, retention: HistoryRetention): Promise<number> {
    const db = this.handle.get();
    const { expiredSegments, recordCount, oldestSegments, sweepLedger } = this.statements;
    const removed = db.transaction(() => {
      const cutoff = now - retention.retainMs;
      let removed = 0;
      // Segments are listed as numbers and read one at a time: a sweep after a long downtime may
      // remove millions of records, which must not all be in memory at once.
      for (const seq of expiredSegments.all(cutoff) as number[]) removed += this.keepOf(seq, (segment, i) => segment.startedAt(i) >= cutoff);
      let excess = (recordCount.get() as number) - retention.maxRecords;
      // The oldest segments go first (each holds at least one record); in the last one reached,
      // its oldest records.
      for (const seq of excess > 0 ? (oldestSegments.all(excess) as number[]) : []) {
        if (excess <= 0) break;
        let going: Set<number> | undefined;
        const gone = this.keepOf(seq, (segment, i) => {
          going ??= new Set(oldestFirst(segment).slice(0, excess));
          return !going.has(i);
        });
        removed += gone;
        excess -= gone;
      }
      sweepLedger.run(now - retention.ledgerRetainMs);
      return removed;
    }).immediate();
    // After the commit: a rolled-back sweep must find its segments' bytes still there.
    this.removeDeadFiles();
    return removed;
  }

  async close(): Promise<void> {
    this.handle.close();
    this.files.close();
  }

  /**
   * Removes the segment files older than the oldest one a segment lives in. Files are filled in
   * order and segments removed mostly oldest first, so this frees space as the history ages; a
   * file emptied out of order (a removed function) goes once the older ones have.
   */
  private removeDeadFiles(): void {
    const oldest = this.statements.oldestFile.get() as number | null;
    this.files.removeBelow(oldest ?? Infinity);
  }

  /** The open connection (tests read query plans through it). */
  get database(): Database {
    return this.handle.get();
  }

  private segment(seq: number): RecordBatchReader | undefined {
    const row = this.statements.segment.get(seq) as SegmentRow | undefined;
    return row && this.read(row);
  }

  /**
   * The records of a segment row, or undefined when its bytes are gone (a power cut after the row
   * was committed but before the file's pages reached the disk): those records are lost, the rest
   * of the history is not.
   */
  private read(row: SegmentRow): RecordBatchReader | undefined {
    try {
      const bytes = this.files.read(row, row.numbers_bytes + row.text_bytes);
      return RecordBatchReader.stored(bytes.subarray(0, row.numbers_bytes), bytes.subarray(row.numbers_bytes), row.dict);
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps the records of a segment that `keep` says to, removing the others and their ids (the
   * whole segment when none is kept); answers how many went. Inside the caller's transaction.
   */
  private keepOf(seq: number, keep: (segment: RecordBatchReader, i: number) => boolean): number {
    const row = this.statements.segment.get(seq) as SegmentRow | undefined;
    if (!row) return 0;
    const segment = this.read(row);
    if (!segment) {
      // Unreadable: its records are lost already; the row goes (their ids, unknown, stay unused).
      this.statements.deleteSegment.run(seq);
      return row.count;
    }
    const kept: number[] = [];
    const { deleteId, moveId, deleteSegment } = this.statements;
    for (let i = 0; i < segment.count; i++) {
      // Records found by id range have no id row to remove or move.
      const idRow = !segment.byRange(i);
      if (!keep(segment, i)) {
        if (idRow) deleteId.run(segment.id(i), segment.attempt(i));
        continue;
      }
      if (idRow && kept.length !== i) moveId.run(kept.length, segment.id(i), segment.attempt(i));
      kept.push(i);
    }
    if (kept.length === segment.count) return 0;
    deleteSegment.run(row.seq);
    if (kept.length > 0) this.insertSegment(row.seq, row.function, new RecordBatchReader(segment.select(kept)));
    return segment.count - kept.length;
  }
}
