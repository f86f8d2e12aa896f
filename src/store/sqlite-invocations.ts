import type { Database, Statement, Transaction } from 'better-sqlite3';
import { INVOCATION_STATUSES } from '../api/wire.js';
import { GroupCommit } from '../queue/group-commit.js';
import type {
  InvocationChanges,
  InvocationPage,
  InvocationQuery,
  InvocationRecord,
  InvocationRepository,
  InvocationRetention,
  InvocationStatus,
} from './invocation-types.js';
import { changeValues, insertValues, newRecordValues, toRecord, type InvocationRow, type SqlValue } from './sqlite-invocation-rows.js';
import { INVOCATION_SQL, LIST_SHAPES, listSql, shapeKey, type ListShape } from './sqlite-invocation-sql.js';
import type { SqliteHandle } from './sqlite-handle.js';

/**
 * Creates committed without waiting for the loop turn to end, bounding a transaction's size and
 * the time one commit holds the event loop.
 */
const MAX_BATCH = 1_000;

/** The largest page {@link InvocationQuery.limit} allows. */
const MAX_PAGE = 1_000;

/**
 * Async invocation records in SQLite: the `invocations` table of migration 4, on the store's
 * shared connection.
 *
 * `create` is on the accept path of every async invocation and `update` on the path of every
 * attempt, so their calls are group-committed ({@link GroupCommit}): the writes of one loop turn
 * (up to {@link MAX_BATCH}) share one transaction, and each promise resolves once that
 * transaction has committed (with WAL and synchronous=NORMAL, a commit survives the process being
 * killed). Every other method first commits the writes still waiting, then runs at once, so a
 * call always sees the writes made before it; reads never wait for the next loop turn.
 */
export class SqliteInvocations implements InvocationRepository {
  private readonly commit: GroupCommit;
  private readonly statements: { [K in keyof typeof INVOCATION_SQL]: Statement };
  private readonly lists = new Map<string, Statement<[Record<string, unknown>], InvocationRow>>();
  /** UPDATE statements by the columns they set (a caller changes the same few sets again and again). */
  private readonly updates = new Map<string, Statement<[SqlValue[]]>>();
  private readonly sweepAll: Transaction<(now: number, retention: InvocationRetention) => number>;

  constructor(private readonly handle: SqliteHandle) {
    const db = handle.get();
    this.commit = new GroupCommit(db, MAX_BATCH);
    this.statements = Object.fromEntries(Object.entries(INVOCATION_SQL).map(([name, sql]) => [name, db.prepare(sql)])) as typeof this.statements;
    this.statements.countEnded.pluck();
    this.statements.idempotent.pluck();
    for (const shape of LIST_SHAPES) this.lists.set(shapeKey(shape), db.prepare(listSql(shape)));
    this.sweepAll = db.transaction((now: number, retention: InvocationRetention): number => {
      let removed = this.statements.sweepExpired.run(now - retention.retainMs).changes;
      const excess = (this.statements.countEnded.get() as number) - retention.maxEnded;
      if (excess > 0) removed += this.statements.sweepExcessEnded.run({ excess }).changes;
      return removed + this.statements.sweepExcessDead.run(retention.maxDeadPerFunction).changes;
    });
  }

  /** Transactions the creates were committed in so far (for tests and metrics: creates / commits = batching). */
  get commits(): number {
    return this.commit.commits;
  }

  async create(records: readonly InvocationRecord[]): Promise<void> {
    this.handle.get();
    // The column values are taken now: the caller may change its records before the batch is written.
    const rows = records.map((record) => newRecordValues(record) ?? insertValues(record));
    if (rows.length === 0) return;
    const { insert, insertNew } = this.statements;
    return this.commit.submit(() => {
      for (const row of rows) (Array.isArray(row) ? insertNew : insert).run(row);
    });
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    this.ready();
    const row = this.statements.get.get(id) as InvocationRow | undefined;
    return row && toRecord(row);
  }

  async update(id: string, changes: InvocationChanges): Promise<boolean> {
    const values = changeValues(changes);
    const db = this.handle.get();
    const columns = Object.keys(values);
    if (columns.length === 0) {
      this.ready();
      return this.statements.exists.get(id) !== undefined;
    }
    const key = columns.join(',');
    let statement = this.updates.get(key);
    if (!statement) {
      // Column names come from the fixed writers of sqlite-invocation-rows.ts, never from the caller.
      // Bound by position, as creates are: named parameters cost more on every attempt's two updates.
      statement = db.prepare<[SqlValue[]]>(`UPDATE invocations SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`);
      this.updates.set(key, statement);
    }
    const run = statement;
    const params = [...Object.values(values), id];
    // Group-committed like creates (each running invocation updates its record twice): in order
    // with them, and the updates of one loop turn share a transaction.
    return this.commit.submit(() => run.run(params).changes > 0);
  }

  async findByIdempotencyKey(fn: string, key: string, since: number): Promise<string | undefined> {
    this.ready();
    return this.statements.idempotent.get(fn, key, since) as string | undefined;
  }

  async list(query: InvocationQuery): Promise<InvocationPage> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE) {
      throw new RangeError(`list: limit must be an integer from 1 to ${MAX_PAGE}, got ${query.limit}`);
    }
    this.ready();
    const shape: ListShape = { function: query.function !== undefined, status: query.status !== undefined, after: query.after !== undefined };
    const params: Record<string, unknown> = { limit: query.limit + 1 };
    if (query.function !== undefined) params.function = query.function;
    if (query.status !== undefined) params.status = query.status;
    if (query.after !== undefined) Object.assign(params, { afterCreatedAt: query.after.createdAt, afterId: query.after.id });
    // One row more than asked says whether another page exists.
    const rows = this.lists.get(shapeKey(shape))!.all(params);
    const records = rows.slice(0, query.limit).map(toRecord);
    const last = records.at(-1);
    return rows.length > query.limit && last ? { records, next: { createdAt: last.createdAt, id: last.id } } : { records };
  }

  async listDead(fn: string, ids?: readonly string[]): Promise<InvocationRecord[]> {
    this.ready();
    if (ids === undefined) return (this.statements.listDead.all(fn) as InvocationRow[]).map(toRecord);
    if (ids.length === 0) return [];
    return (this.statements.listDeadIds.all(fn, JSON.stringify(ids)) as InvocationRow[]).map(toRecord);
  }

  async purgeDead(fn: string): Promise<number> {
    this.ready();
    return this.statements.purgeDead.run(fn).changes;
  }

  async deleteFunction(fn: string): Promise<number> {
    this.ready();
    return this.statements.deleteFunction.run(fn).changes;
  }

  async sweep(now: number, retention: InvocationRetention): Promise<number> {
    for (const name of ['retainMs', 'maxEnded', 'maxDeadPerFunction'] as const) {
      const value = retention[name];
      if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new RangeError(`sweep: ${name} must be a number >= 0 (Infinity: no bound), got ${String(value)}`);
    }
    this.ready();
    // IMMEDIATE: the count and the deletes see the same records, even with another process writing.
    return this.sweepAll.immediate(now, retention);
  }

  async countByStatus(fn?: string): Promise<Record<InvocationStatus, number>> {
    this.ready();
    const counts = Object.fromEntries(INVOCATION_STATUSES.map((status) => [status, 0])) as Record<InvocationStatus, number>;
    const rows = (fn === undefined ? this.statements.countAll.all() : this.statements.countOf.all(fn)) as { status: InvocationStatus; count: number }[];
    for (const row of rows) counts[row.status] = row.count;
    return counts;
  }

  /**
   * Commits the creates still waiting for their group commit, now. The store calls it before it
   * closes, so a create that was called is never lost to a shutdown.
   */
  flush(): void {
    this.commit.flush();
  }

  /** The open database, with every create made so far committed: what each other method starts with. */
  private ready(): Database {
    const db = this.handle.get();
    this.commit.flush();
    return db;
  }
}
