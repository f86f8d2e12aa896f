import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { ManualClock } from '../../src/core/clock.js';
import { CHECKPOINT_INTERVAL_MS, FALLBACK_AUTOCHECKPOINT_PAGES, WalCheckpointer } from '../../src/store/wal-checkpointer.js';

function walDb() {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-ckpt-'));
  const file = join(dir, 'db');
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  return { dir, file, db };
}

test('the checkpoint thread copies the WAL into the database, and the writer no longer checkpoints in its commits', async () => {
  const { dir, file, db } = walDb();
  const clock = new ManualClock();
  const errors: string[] = [];
  const checkpointer = new WalCheckpointer(db, file, clock, (message) => errors.push(message));
  try {
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), FALLBACK_AUTOCHECKPOINT_PAGES);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    // 2,000 pages of commits: SQLite's default threshold (1,000) would have checkpointed in them.
    for (let i = 0; i < 2000; i++) insert.run(Buffer.alloc(4000));
    const sizeBefore = statSync(file).size;
    assert.ok(sizeBefore < 1_000_000, `the writer checkpointed by itself (database ${sizeBefore} bytes)`);
    const reply = await checkpointer.checkpoint();
    assert.ok(reply.ok, JSON.stringify(reply));
    assert.ok(reply.log >= 2000 && reply.checkpointed === reply.log, JSON.stringify(reply));
    assert.ok(statSync(file).size > 8_000_000, 'the rows are in the database file now');
    // Once everything is copied, the next commit starts the WAL over: it stays small.
    insert.run(Buffer.alloc(10));
    assert.equal(((await checkpointer.checkpoint()) as { log: number }).log, 1);
    // The clock drives the thread too.
    const before = checkpointer.checkpoints;
    insert.run(Buffer.alloc(10));
    clock.advance(CHECKPOINT_INTERVAL_MS);
    const deadline = Date.now() + 5000;
    while (checkpointer.checkpoints === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(checkpointer.checkpoints, before + 1);
    assert.deepEqual(errors, []);
  } finally {
    await checkpointer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ticks check nothing while the writer has changed nothing since the last whole checkpoint', async () => {
  const { dir, file, db } = walDb();
  const clock = new ManualClock();
  const checkpointer = new WalCheckpointer(db, file, clock);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  /** Advances one tick and gives the thread time to answer; the checkpoints done so far. */
  const tick = async () => {
    const before = checkpointer.checkpoints;
    clock.advance(CHECKPOINT_INTERVAL_MS);
    const deadline = Date.now() + 1000;
    while (checkpointer.checkpoints === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return checkpointer.checkpoints;
  };
  try {
    // The first tick checkpoints whatever the file's WAL holds from before.
    assert.equal(await tick(), 1);
    insert.run(Buffer.alloc(10));
    assert.equal(await tick(), 2, 'a write is checkpointed at the next tick');
    assert.equal(await tick(), 2, 'no write since: no checkpoint');
    assert.equal(await tick(), 2);
    db.prepare('DELETE FROM t').run();
    assert.equal(await tick(), 3, 'a delete counts as a change too');
    assert.equal((await checkpointer.checkpoint()).ok, true, 'asked for, a checkpoint runs whatever changed');
    assert.equal(checkpointer.checkpoints, 4);
  } finally {
    await checkpointer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a closed checkpointer ends its thread and answers no more', async () => {
  const { dir, file, db } = walDb();
  const checkpointer = new WalCheckpointer(db, file, new ManualClock());
  await checkpointer.close();
  await checkpointer.close();
  const reply = await checkpointer.checkpoint();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(reply.ok, false);
});

test('a thread that ended early is reported, and close still returns', async () => {
  const { dir, file, db } = walDb();
  const errors: string[] = [];
  const checkpointer = new WalCheckpointer(db, file, new ManualClock(), (message) => errors.push(message));
  try {
    await checkpointer.checkpoint();
    await (checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    assert.match(errors.join('\n'), /the checkpoint thread ended/);
    assert.equal((await checkpointer.checkpoint()).ok, false);
  } finally {
    await checkpointer.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
