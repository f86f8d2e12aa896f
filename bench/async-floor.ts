/**
 * The floor under the async accept rate, run in its own process by bench/async-accept.ts: a bare
 * better-sqlite3 loop doing only the two writes an accepted invocation costs, with the platform's
 * own tables, indexes and durability settings, and nothing else (no HTTP, no event loop, no
 * group-commit bookkeeping). The platform's accept rate can approach it, not beat it.
 *
 *   node dist/bench/async-floor.js <dir> <seconds> <batch> <function> <host>
 *
 * In `<dir>` (fresh, on the same file system as the platform's data) it creates `queue.db`
 * (WAL, synchronous=FULL, the queue's schema) and `nimbus.db` (WAL, synchronous=NORMAL, the
 * store's schema), then for `<seconds>` repeats: one transaction inserting `<batch>` queue rows
 * (the payload the platform stores for the bench's request, random UUID ids as the acceptor
 * makes), then one transaction inserting the `<batch>` records of a just-accepted invocation.
 * That is group commit as the platform does it (src/queue/group-commit.ts: the requests of one
 * loop turn share one transaction per file); `<batch>` 50 models the largest group 50 concurrent
 * requests can form, `<batch>` 1 no grouping at all. Prints one JSON line ({@link FloorResult}).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { QUEUE_MIGRATIONS } from '../src/queue/schema.js';
import { migrate } from '../src/store/migrations.js';
import { storedPayload } from './async-request.js';

/** What the floor process prints. */
export interface FloorResult {
  /** Rows per transaction in each file. */
  batch: number;
  /** Accepted invocations written (one queue row and one record each). */
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Bytes of each queue row's payload (the encoded request). */
  payloadBytes: number;
}

/** Opens a fresh database as the platform opens its own. */
function open(file: string, synchronous: 'FULL' | 'NORMAL', migrations?: readonly string[]): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  migrate(db, migrations);
  return db;
}

function main(): void {
  const [dir, secondsText, batchText, fn, host] = process.argv.slice(2);
  const seconds = Number(secondsText);
  const batch = Number(batchText);
  if (dir === undefined || fn === undefined || host === undefined || !(seconds > 0) || !Number.isInteger(batch) || batch < 1) {
    throw new Error('usage: async-floor.js <dir> <seconds> <batch> <function> <host>');
  }
  mkdirSync(dir, { recursive: true });
  const queue = open(join(dir, 'queue.db'), 'FULL', QUEUE_MIGRATIONS);
  // The store's full schema (its migrations, the invocations table of migration 4 included).
  const store = open(join(dir, 'nimbus.db'), 'NORMAL');
  const payload = storedPayload(fn, host);
  const insertItem = queue.prepare('INSERT INTO queue_items (id, partition, payload, attempt, due_at, enqueued_at) VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (id) DO NOTHING');
  // The columns a queued record sets (src/async/acceptor.ts, queuedRecord); the others stay NULL.
  const insertRecord = store.prepare(
    "INSERT INTO invocations (id, function, status, attempts, created_at, method, path) VALUES (?, ?, 'queued', 0, ?, 'POST', '/') ON CONFLICT (id) DO NOTHING",
  );
  const items = queue.transaction((ids: string[], now: number) => {
    for (const id of ids) insertItem.run(id, fn, payload, now, now);
  });
  const records = store.transaction((ids: string[], now: number) => {
    for (const id of ids) insertRecord.run(id, fn, now);
  });
  let rows = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    const ids = Array.from({ length: batch }, () => randomUUID());
    const now = Date.now();
    items.immediate(ids, now);
    records.immediate(ids, now);
    rows += batch;
  }
  const elapsed = (performance.now() - started) / 1000;
  queue.close();
  store.close();
  const result: FloorResult = { batch, rows, seconds: elapsed, rowsPerSecond: rows / elapsed, payloadBytes: payload.length };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

try {
  main();
} catch (err) {
  console.error(`async floor failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
