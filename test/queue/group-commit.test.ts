import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { GroupCommit } from '../../src/queue/group-commit.js';
import { WalSync } from '../../src/queue/wal-sync.js';

function database() {
  const db = new BetterSqlite3(':memory:');
  db.exec('CREATE TABLE t (v INTEGER NOT NULL UNIQUE)');
  return db;
}

test('group commit: one transaction per loop turn; an operation that throws fails alone, the others commit', async () => {
  const db = database();
  const commit = new GroupCommit(db);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const results = await Promise.allSettled([1, 2, 2, 3].map((v) => commit.submit(() => insert.run(v).changes)));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.match(String((results[2] as PromiseRejectedResult).reason), /UNIQUE/);
  assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY v').pluck().all(), [1, 2, 3]);
  // The batch with the failure ran twice (without savepoints, then with): still one commit.
  assert.equal(commit.commits, 1);
  db.close();
});

test('group commit: durable operations settle after the durable step, the others at once', async () => {
  const db = database();
  let release!: () => void;
  let steps = 0;
  const commit = new GroupCommit(db, 100, () => {
    steps++;
    return new Promise<void>((done) => (release = done));
  });
  const order: string[] = [];
  const durable = commit.submit(() => db.prepare('INSERT INTO t (v) VALUES (1)').run(), true).then(() => order.push('durable'));
  const plain = commit.submit(() => db.prepare('INSERT INTO t (v) VALUES (2)').run()).then(() => order.push('plain'));
  await plain;
  assert.deepEqual(order, ['plain']);
  assert.equal(steps, 1);
  release();
  await durable;
  assert.deepEqual(order, ['plain', 'durable']);
  // A batch without durable operations does not ask for the step.
  await commit.submit(() => db.prepare('INSERT INTO t (v) VALUES (3)').run());
  assert.equal(steps, 1);
  db.close();
});

test('group commit: a failed durable step rejects the durable operations of its batch', async () => {
  const db = database();
  const commit = new GroupCommit(db, 100, () => Promise.reject(new Error('disk gone')));
  await assert.rejects(commit.submit(() => db.prepare('INSERT INTO t (v) VALUES (1)').run(), true), /disk gone/);
  db.close();
});

test('WAL sync: requests made while a sync runs share the next one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-walsync-'));
  try {
    const file = join(dir, 'x-wal');
    await writeFile(file, 'frames');
    const sync = new WalSync(file);
    const first = sync.sync();
    const waiting = Array.from({ length: 10 }, () => sync.sync());
    await Promise.all([first, ...waiting]);
    assert.equal(sync.syncs, 2, 'one sync in flight, then one for everyone who asked meanwhile');
    await sync.sync();
    assert.equal(sync.syncs, 3);
    await sync.close();
    await assert.rejects(sync.sync(), /closed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
