import { randomUUID } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { migrate } from '../store/migrations.js';
import { interleave, rotateAfter } from './fair-order.js';
import { GroupCommit } from './group-commit.js';
import { WalCheckpointer } from '../store/wal-checkpointer.js';
import { WalSync } from './wal-sync.js';
import { QUEUE_MIGRATIONS } from './schema.js';
import type { Lease, LeaseOptions, Queue, QueueDepth, QueueItem } from './types.js';

/** File name of the queue's database inside the data directory (apart from the store's nimbus.db). */
export const QUEUE_DB_FILE = 'queue.db';

/** Milliseconds a writer waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/** Options of {@link SqliteQueue.open}. */
export interface SqliteQueueOptions {
  /** Where time comes from (due times, lease expiry). @default systemClock */
  clock?: Clock;
  /**
   * How durable an enqueue is when it resolves. With `full`, its commit is on disk (fsynced), so
   * an accepted item survives a power cut as well as a killed process. With `normal` (WAL), a
   * commit survives the process being killed (it is in the OS's page cache) but the last commits
   * may be lost on a power cut or kernel crash. Group commit makes `full` cost one fsync per
   * batch, not per item, and the fsync runs off the event loop (wal-sync.ts), so the queue
   * defaults to it: the 202 promises the work is kept. Settling leases never waits for the disk:
   * a lost ack or retry only means the work runs again, which at-least-once delivery allows.
   * @default 'full'
   */
  synchronous?: 'full' | 'normal';
  /** Operations after which a group commit is written without waiting for the loop turn to end. @default 5000 */
  maxBatch?: number;
  /**
   * The file is this process's alone (the embedded platform): leases still held when it opens
   * belong to a process that died, so their items are due again at once instead of when those
   * leases would have expired. Off when several processes share the file.
   * @default false
   */
  releaseLeases?: boolean;
  /**
   * Checkpoint the WAL on a thread of its own (wal-checkpointer.ts) instead of inside the commits
   * of the event loop; `onError` hears of a failed checkpoint. The platform does.
   */
  checkpointOffLoop?: { onError(message: string): void };
}

/** A row as the lease query reads it. */
interface ItemRow {
  seq: number;
  id: string;
  partition: string;
  payload: Buffer;
  attempt: number;
  enqueued_at: number;
}

/**
 * The embedded queue: one SQLite file of its own (`<dataDir>/queue.db`, WAL), so queue traffic
 * never waits on the store's writes. Every call, reads included, goes through one
 * {@link GroupCommit}: calls made in the same loop turn share a transaction (one fsync), and run
 * in the order they were made. Leases are rows with a token and an expiry in `due_at` (see
 * schema.ts); nothing needs recovering after a restart.
 */
export class SqliteQueue implements Queue {
  private readonly commit: GroupCommit;
  private readonly sql: ReturnType<typeof prepare>;
  /** The partition served last, so the next lease starts after it (round-robin across calls). */
  private lastPartition: string | undefined;
  private closed = false;

  private constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    maxBatch: number,
    /** Makes enqueues durable (synchronous `full`); absent with `normal`. */
    private readonly walSync: WalSync | undefined,
    private readonly checkpointer: WalCheckpointer | undefined,
  ) {
    this.commit = new GroupCommit(db, maxBatch, walSync && (() => walSync.sync()));
    this.sql = prepare(db);
  }

  /** Opens (creating if needed) the queue in `dataDir` and brings its schema up to date. */
  static async open(dataDir: string, options: SqliteQueueOptions = {}): Promise<SqliteQueue> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, QUEUE_DB_FILE);
    // Owner-only before SQLite opens it: SQLite gives its -wal and -shm files the same mode.
    await (await open(file, 'a', 0o600)).close();
    const db = new BetterSqlite3(file);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL for every commit; enqueues of a `full` queue are then synced off the event loop.
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      migrate(db, QUEUE_MIGRATIONS);
      if (options.releaseLeases) {
        const now = (options.clock ?? systemClock).now();
        db.prepare('UPDATE queue_items SET due_at = ?, lease_token = NULL WHERE lease_token IS NOT NULL').run(now);
      }
      const walSync = options.synchronous === 'normal' ? undefined : new WalSync(`${file}-wal`);
      const clock = options.clock ?? systemClock;
      const checkpointer = options.checkpointOffLoop && new WalCheckpointer(db, file, clock, options.checkpointOffLoop.onError);
      return new SqliteQueue(db, clock, options.maxBatch ?? 5_000, walSync, checkpointer);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Transactions committed so far: with {@link GroupCommit}, far fewer than calls made. */
  get commits(): number {
    return this.commit.commits;
  }

  async enqueue(items: readonly QueueItem[]): Promise<void> {
    return this.store(items, this.sql.insert);
  }

  async requeue(items: readonly QueueItem[]): Promise<void> {
    return this.store(items, this.sql.replace);
  }

  async lease(options: LeaseOptions): Promise<Lease[]> {
    const max = options.max ?? 1;
    checkPositive('visibilityMs', options.visibilityMs);
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`lease: max must be an integer >= 1, got ${max}`);
    const limitOf = typeof options.maxInFlight === 'function' ? options.maxInFlight : () => options.maxInFlight as number | undefined;
    return this.run(() => {
      const now = this.clock.now();
      const lists: ItemRow[][] = [];
      for (const partition of rotateAfter(this.sql.partitions.pluck().all() as string[], this.lastPartition)) {
        const limit = limitOf(partition);
        const room = limit === undefined ? max : Math.min(max, limit - (this.sql.inFlight.pluck().get(partition, now) as number));
        if (room <= 0) continue;
        const rows = this.sql.due.all(partition, now, room) as ItemRow[];
        if (rows.length > 0) lists.push(rows);
        // Each partition gives one item per round: with `max` partitions in hand, later ones get none.
        if (lists.length >= max) break;
      }
      const expiresAt = now + options.visibilityMs;
      return interleave(lists, max).map((row): Lease => {
        const token = randomUUID();
        this.sql.take.run(token, expiresAt, row.seq);
        this.lastPartition = row.partition;
        return {
          item: { id: row.id, partition: row.partition, payload: row.payload, enqueuedAt: row.enqueued_at },
          attempt: row.attempt + 1,
          token,
          expiresAt,
        };
      });
    });
  }

  async ack(lease: Lease): Promise<boolean> {
    return this.run(() => this.sql.remove.run(lease.item.id, lease.token).changes === 1);
  }

  async retryLater(lease: Lease, delayMs: number): Promise<boolean> {
    checkPositive('delayMs', delayMs, true);
    return this.run(() => this.sql.release.run(this.clock.now() + delayMs, lease.item.id, lease.token).changes === 1);
  }

  async giveUp(lease: Lease): Promise<boolean> {
    // The queue keeps no dead letters: the caller's invocation record is the dead letter.
    return this.run(() => this.sql.remove.run(lease.item.id, lease.token).changes === 1);
  }

  async extend(lease: Lease, ms: number): Promise<boolean> {
    checkPositive('ms', ms);
    return this.run(() => this.sql.extend.run(this.clock.now() + ms, lease.item.id, lease.token).changes === 1);
  }

  async remove(partition: string): Promise<number> {
    return this.run(() => this.sql.removePartition.run(partition).changes);
  }

  async depth(partition?: string): Promise<QueueDepth> {
    return this.run(() => {
      const now = this.clock.now();
      const total: QueueDepth = { due: 0, delayed: 0, leased: 0 };
      // Summed per partition so each count is an index range (no table reads, no payloads).
      for (const name of partition === undefined ? (this.sql.partitions.pluck().all() as string[]) : [partition]) {
        const leased = this.sql.inFlight.pluck().get(name, now) as number;
        total.due += this.sql.dueCount.pluck().get(name, now) as number;
        total.delayed += (this.sql.laterCount.pluck().get(name, now) as number) - leased;
        total.leased += leased;
      }
      return total;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Calls already made still get their answer (and their writes, synced); then the file is released.
    this.commit.flush();
    await this.walSync?.close();
    await this.checkpointer?.close();
    this.db.close();
  }

  /** Writes the items with `statement` (insert or replace), resolving once they are durable. */
  private store(items: readonly QueueItem[], statement: Statement): Promise<void> {
    for (const item of items) checkItem(item);
    return this.run(() => {
      const now = this.clock.now();
      for (const item of items) statement.run(item.id, item.partition, item.payload, item.notBefore ?? now, now);
    }, true);
  }

  /**
   * Submits `op` to the group commit, or refuses once closed. The public methods are async so a
   * bad argument rejects rather than throws; they call this before their first await, so calls
   * still reach the group commit in the order they were made.
   */
  private run<T>(op: () => T, durable = false): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new NimbusError('SHUTTING_DOWN', 'The queue is closed because the platform is shutting down; retry against a running platform.'),
      );
    }
    return this.commit.submit(op, durable);
  }
}

/** The statements, prepared once per connection. */
function prepare(db: Database) {
  return {
    insert: db.prepare(`
      INSERT INTO queue_items (id, partition, payload, attempt, due_at, enqueued_at) VALUES (?, ?, ?, 0, ?, ?)
      ON CONFLICT (id) DO NOTHING`),
    // A new lease token of NULL is what makes a held lease stale: every settle matches the token.
    replace: db.prepare(`
      INSERT INTO queue_items (id, partition, payload, attempt, due_at, enqueued_at) VALUES (?, ?, ?, 0, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        partition = excluded.partition, payload = excluded.payload, attempt = 0,
        due_at = excluded.due_at, lease_token = NULL, enqueued_at = excluded.enqueued_at`),
    // A skip-scan over the (partition, due_at) index: one index seek per partition, however long
    // each partition's backlog is (a plain SELECT DISTINCT would read every row).
    partitions: db.prepare(`
      WITH RECURSIVE parts (name) AS (
        SELECT (SELECT MIN(partition) FROM queue_items)
        UNION ALL
        SELECT (SELECT MIN(partition) FROM queue_items WHERE partition > parts.name) FROM parts WHERE parts.name IS NOT NULL
      )
      SELECT name FROM parts WHERE name IS NOT NULL`),
    inFlight: db.prepare('SELECT COUNT(*) FROM queue_items WHERE partition = ? AND lease_token IS NOT NULL AND due_at > ?'),
    // `LIMIT ? + 0`, not a bare `LIMIT ?`: the SQLite of better-sqlite3 plans with a bare bound
    // LIMIT's value, so every run re-planned the statement (~80 us a lease instead of ~10, measured).
    due: db.prepare(`
      SELECT seq, id, partition, payload, attempt, enqueued_at FROM queue_items
      WHERE partition = ? AND due_at <= ? ORDER BY due_at, seq LIMIT ? + 0`),
    take: db.prepare('UPDATE queue_items SET lease_token = ?, due_at = ?, attempt = attempt + 1 WHERE seq = ?'),
    remove: db.prepare('DELETE FROM queue_items WHERE id = ? AND lease_token = ?'),
    release: db.prepare('UPDATE queue_items SET due_at = ?, lease_token = NULL WHERE id = ? AND lease_token = ?'),
    extend: db.prepare('UPDATE queue_items SET due_at = ? WHERE id = ? AND lease_token = ?'),
    removePartition: db.prepare('DELETE FROM queue_items WHERE partition = ?'),
    // Both answered from the (partition, due_at) index alone; leased items are counted by inFlight.
    dueCount: db.prepare('SELECT COUNT(*) FROM queue_items WHERE partition = ? AND due_at <= ?'),
    laterCount: db.prepare('SELECT COUNT(*) FROM queue_items WHERE partition = ? AND due_at > ?'),
  };
}

/** Refuses an item the queue could not hand back intact. */
function checkItem(item: QueueItem): void {
  if (typeof item.id !== 'string' || item.id === '') throw new TypeError('enqueue: every item needs a non-empty string id');
  if (typeof item.partition !== 'string' || item.partition === '') throw new TypeError(`enqueue: item ${item.id} needs a non-empty string partition`);
  if (!Buffer.isBuffer(item.payload)) throw new TypeError(`enqueue: the payload of item ${item.id} must be a Buffer`);
  if (item.notBefore !== undefined && !Number.isFinite(item.notBefore)) throw new TypeError(`enqueue: notBefore of item ${item.id} must be a finite number`);
}

/** Refuses a duration that is not a finite number above zero (or at least zero, when allowed). */
function checkPositive(name: string, value: number, zeroAllowed = false): void {
  if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
    throw new RangeError(`${name} must be a finite number ${zeroAllowed ? '>= 0' : '> 0'}, got ${value}`);
  }
}
