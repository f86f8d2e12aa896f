import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { idsReportedBeforeSigkill } from '../support/kill-mid-write.js';
import BetterSqlite3 from 'better-sqlite3';
import { ManualClock } from '../../src/core/clock.js';
import { interleave, rotateAfter } from '../../src/queue/fair-order.js';
import { QUEUE_DB_FILE, SqliteQueue } from '../../src/queue/sqlite-queue.js';
import { queueContract } from './queue-contract.js';

let root: string;
let dirs = 0;
queueContract('SqliteQueue', async () => {
  root = await mkdtemp(join(tmpdir(), 'nimbus-queue-'));
  return {
    open: (clock) => SqliteQueue.open(join(root, `q${dirs++}`), { clock }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-queue-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('fair order: partitions rotate after the one served last; lists interleave one item per round', () => {
  assert.deepEqual(rotateAfter(['a', 'b', 'c'], undefined), ['a', 'b', 'c']);
  assert.deepEqual(rotateAfter(['a', 'b', 'c'], 'a'), ['b', 'c', 'a']);
  assert.deepEqual(rotateAfter(['a', 'c'], 'b'), ['c', 'a'], 'the last one may have gone');
  assert.deepEqual(rotateAfter(['a', 'b'], 'z'), ['a', 'b']);
  assert.deepEqual(interleave([[1, 2, 3], [10], [20, 21]], 10), [1, 10, 20, 2, 21, 3]);
  assert.deepEqual(interleave([[1, 2, 3], [10]], 3), [1, 10, 2]);
  assert.deepEqual(interleave([], 3), []);
});

test('the queue file uses WAL, owner-only', async () => {
  await withDir(async (dir) => {
    const queue = await SqliteQueue.open(dir);
    await queue.enqueue([{ id: 'x', partition: 'p', payload: Buffer.from('x') }]);
    await queue.close();
    const db = new BetterSqlite3(join(dir, QUEUE_DB_FILE), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    assert.equal((await stat(join(dir, QUEUE_DB_FILE))).mode & 0o777, 0o600);
  });
});

test('items, attempts and leases survive close and reopen; a lease held at the restart falls due when it expires', async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(1_000_000);
    const before = await SqliteQueue.open(dir, { clock });
    await before.enqueue([1, 2, 3].map((n) => ({ id: `i${n}`, partition: 'p', payload: Buffer.from([n, 0, 255]) })));
    const [held] = await before.lease({ visibilityMs: 30_000 });
    await before.close();

    const after = await SqliteQueue.open(dir, { clock });
    try {
      assert.deepEqual(await after.depth(), { due: 2, delayed: 0, leased: 1 });
      const others = await after.lease({ visibilityMs: 30_000, max: 10 });
      assert.deepEqual(others.map((l) => [l.item.id, [...l.item.payload]]), [['i2', [2, 0, 255]], ['i3', [3, 0, 255]]]);
      clock.advance(30_000);
      const again = await after.lease({ visibilityMs: 30_000, max: 10 });
      assert.deepEqual(again.map((l) => [l.item.id, l.attempt]), [['i1', 2], ['i2', 2], ['i3', 2]]);
      assert.equal(await after.ack(held!), false, 'the pre-restart lease is stale');
    } finally {
      await after.close();
    }
  });
});

test('every enqueue acked before a SIGKILL is in the queue after reopening', async () => {
  await withDir(async (dir) => {
    const acked = await idsReportedBeforeSigkill(join(import.meta.dirname, 'fixtures', 'enqueue-until-killed.js'), dir, 'acked');

    const db = new BetterSqlite3(join(dir, QUEUE_DB_FILE));
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const present = new Set(db.prepare('SELECT id FROM queue_items').pluck().all() as string[]);
      const missing = acked.filter((id) => !present.has(id));
      console.log(`# acked before SIGKILL: ${acked.length}; stored: ${present.size}; acked but missing: ${missing.length}`);
      assert.deepEqual(missing, []);
    } finally {
      db.close();
    }
  });
});

test('group commit: concurrent enqueues share transactions, sequential ones cannot', async () => {
  await withDir(async (dir) => {
    const queue = await SqliteQueue.open(dir);
    try {
      const count = 5_000;
      const before = queue.commits;
      let started = performance.now();
      await Promise.all(Array.from({ length: count }, (_, i) => queue.enqueue([{ id: `c${i}`, partition: `p${i % 7}`, payload: Buffer.alloc(200, i) }])));
      const concurrentMs = performance.now() - started;
      const concurrentCommits = queue.commits - before;

      const sequential = 1_000;
      const mid = queue.commits;
      started = performance.now();
      for (let i = 0; i < sequential; i++) await queue.enqueue([{ id: `s${i}`, partition: 'p', payload: Buffer.alloc(200, i) }]);
      const sequentialMs = performance.now() - started;
      const sequentialCommits = queue.commits - mid;

      console.log(
        `# ${count} concurrent enqueues: ${concurrentCommits} transaction(s), ${concurrentMs.toFixed(0)} ms (${((count / concurrentMs) * 1000).toFixed(0)}/s); ` +
          `${sequential} sequential awaited: ${sequentialCommits} transactions, ${sequentialMs.toFixed(0)} ms (${((sequential / sequentialMs) * 1000).toFixed(0)}/s)`,
      );
      assert.ok(concurrentCommits <= 2, `5,000 enqueues of one loop turn in at most 2 transactions (maxBatch 5,000), got ${concurrentCommits}`);
      assert.equal(sequentialCommits, sequential, 'each awaited enqueue is its own turn, so its own transaction');
      assert.deepEqual(await queue.depth(), { due: count + sequential, delayed: 0, leased: 0 });
    } finally {
      await queue.close();
    }
  });
});

test('releaseLeases: leases held when the file opens (a killed platform) are due at once, their attempt counted', async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(1_000_000);
    const before = await SqliteQueue.open(dir, { clock });
    await before.enqueue([{ id: 'held', partition: 'p', payload: Buffer.from('h') }, { id: 'later', partition: 'p', payload: Buffer.from('l'), notBefore: 1_060_000 }]);
    const [held] = await before.lease({ visibilityMs: 600_000 });
    assert.equal(held?.item.id, 'held');
    await before.close();

    const kept = await SqliteQueue.open(dir, { clock });
    assert.deepEqual(await kept.lease({ visibilityMs: 1_000 }), [], 'without the option the lease holds until it expires');
    await kept.close();

    const after = await SqliteQueue.open(dir, { clock, releaseLeases: true });
    const [again, ...rest] = await after.lease({ visibilityMs: 1_000, max: 5 });
    assert.equal(again?.item.id, 'held');
    assert.equal(again?.attempt, 2);
    assert.deepEqual(rest, [], 'an item not due yet stays delayed');
    assert.equal(await after.ack(held!), false, 'the dead lease cannot settle the new delivery');
    await after.close();
  });
});
