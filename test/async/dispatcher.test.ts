import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import pino from 'pino';
import { AsyncDispatcher, REFILL_WAIT_MS, type PartitionHandler } from '../../src/async/dispatcher.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Lease, LeaseOptions } from '../../src/queue/types.js';
import { SqliteQueue } from '../../src/queue/sqlite-queue.js';

/**
 * A dispatcher on a real queue whose handlers hold each item until the test lets it end, with the
 * queue's leases counted. Every partition runs `concurrency` items at a time (default one); given
 * as `{ value }`, the test may change it meanwhile (as a deploy does).
 */
async function withDispatcher(
  fn: (t: {
    queue: SqliteQueue;
    dispatcher: AsyncDispatcher;
    running: Map<string, () => void>;
    leaseCalls: () => number;
    settled: () => Promise<void>;
    clock: ManualClock;
  }) => Promise<void>,
  concurrency: number | { value: number } = 1,
): Promise<void> {
  const limit = () => (typeof concurrency === 'number' ? concurrency : concurrency.value);
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-dispatcher-'));
  const clock = new ManualClock(1_000_000);
  const queue = await SqliteQueue.open(dir, { clock, synchronous: 'normal' });
  let leases = 0;
  const lease = queue.lease.bind(queue);
  queue.lease = (options: LeaseOptions) => {
    leases++;
    return lease(options);
  };
  // Item id -> ends its run (acked).
  const running = new Map<string, () => void>();
  const handler: PartitionHandler = {
    run: (held: Lease) =>
      new Promise<void>((resolve) => {
        running.set(held.item.id, () => {
          running.delete(held.item.id);
          void queue.ack(held).then(() => resolve());
        });
      }),
    concurrency: limit,
    leaseMs: () => 1_000,
  };
  const dispatcher = new AsyncDispatcher({ queue, clock, logger: pino({ level: 'silent' }), workers: Math.max(8, limit()), handlerFor: () => handler });
  // Leases and acks are group-committed at the end of a loop turn: a few turns let them land.
  const settled = async () => {
    for (let i = 0; i < 5; i++) await nextTurn();
  };
  try {
    await fn({ queue, dispatcher, running, leaseCalls: () => leases, settled, clock });
  } finally {
    dispatcher.stop();
    for (const end of [...running.values()]) end();
    await dispatcher.drained();
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const item = (id: string, partition: string) => ({ id, partition, payload: Buffer.from(id) });

test('dispatcher: runs each partition up to its concurrency, and the next item when a slot frees', async () => {
  await withDispatcher(async ({ queue, dispatcher, running, settled }) => {
    await queue.enqueue([item('a1', 'a'), item('a2', 'a'), item('b1', 'b')]);
    dispatcher.start();
    await settled();
    assert.deepEqual([...running.keys()].sort(), ['a1', 'b1'], 'one of a (its concurrency is 1) and b');
    running.get('a1')!();
    await settled();
    assert.deepEqual([...running.keys()].sort(), ['a2', 'b1']);
  });
});

test('dispatcher: work accepted for a partition at its concurrency does not lease; for one with room it does', async () => {
  await withDispatcher(async ({ queue, dispatcher, running, leaseCalls, settled }) => {
    await queue.enqueue([item('a1', 'a')]);
    dispatcher.start();
    await settled();
    assert.deepEqual([...running.keys()], ['a1']);

    const before = leaseCalls();
    for (let i = 2; i <= 20; i++) {
      await queue.enqueue([item(`a${i}`, 'a')]);
      dispatcher.accepted('a');
      await settled();
    }
    assert.equal(leaseCalls(), before, 'partition a runs as many as it may: a lease would give none of its items');
    assert.deepEqual([...running.keys()], ['a1']);

    await queue.enqueue([item('b1', 'b')]);
    dispatcher.accepted('b');
    await settled();
    assert.ok(leaseCalls() > before, 'b has room: its work is leased at once');
    assert.deepEqual([...running.keys()].sort(), ['a1', 'b1']);

    // The skipped wakes lost nothing: a's backlog runs as its slot frees, one after the other.
    for (let i = 1; i <= 20; i++) {
      assert.ok(running.has(`a${i}`), `a${i} runs once a${i - 1} has ended`);
      running.get(`a${i}`)!();
      await settled();
    }
    assert.deepEqual((await queue.depth('a')), { due: 0, delayed: 0, leased: 0 });
  });
});

test('dispatcher: a partition at concurrency 1 drains with one lease per item (a lease that answers fewer than asked is not repeated)', async () => {
  await withDispatcher(async ({ queue, dispatcher, running, leaseCalls, settled }) => {
    await queue.enqueue(Array.from({ length: 10 }, (_, i) => item(`a${i}`, 'a')));
    dispatcher.start();
    await settled();
    assert.deepEqual([...running.keys()], ['a0']);
    const before = leaseCalls();
    for (let i = 0; i < 10; i++) {
      running.get(`a${i}`)!();
      await settled();
      if (i < 9) assert.ok(running.has(`a${i + 1}`), `a${i + 1} runs once a${i} has ended`);
    }
    // Each end leases the next item and stops there: the lease gave fewer than the 8 workers asked.
    assert.equal(leaseCalls() - before, 10, 'one lease per ended item (the last finds the queue empty)');
    assert.deepEqual(await queue.depth('a'), { due: 0, delayed: 0, leased: 0 });
  });
});

test('dispatcher: a partition near its concurrency is refilled an eighth of its slots at a time, or once the refill wait has passed', async () => {
  await withDispatcher(async ({ queue, dispatcher, running, leaseCalls, settled, clock }) => {
    await queue.enqueue(Array.from({ length: 40 }, (_, i) => item(`a${i}`, 'a')));
    dispatcher.start();
    await settled();
    assert.equal(running.size, 16, 'filled up to its concurrency');

    // 16 slots refill 2 at a time: one free slot alone waits for a second, in one lease.
    let before = leaseCalls();
    running.get('a0')!();
    await settled();
    assert.equal(running.size, 15);
    assert.equal(leaseCalls(), before, 'one free slot of 16: no lease yet');
    running.get('a1')!();
    await settled();
    assert.equal(running.size, 16, 'two free slots: both refilled');
    assert.equal(leaseCalls() - before, 1, 'by one lease');

    // Items ending slowly: a lone free slot is refilled once the refill wait has passed.
    before = leaseCalls();
    running.get('a2')!();
    await settled();
    assert.equal(running.size, 15);
    clock.advance(REFILL_WAIT_MS);
    await settled();
    assert.equal(running.size, 16, 'refilled after the wait');
    assert.equal(leaseCalls() - before, 1);

    // Work accepted meanwhile waits the same way: one free slot, then a second one.
    running.get('a3')!();
    await settled();
    before = leaseCalls();
    dispatcher.accepted('a');
    await settled();
    assert.equal(leaseCalls(), before, 'accepted work with one free slot of 16 waits for a refill');
    running.get('a4')!();
    await settled();
    assert.equal(running.size, 16);
  }, 16);
});

test('dispatcher: a partition at concurrency 0 is held (nothing leased or run, not even by the poll) until it is raised', async () => {
  const concurrency = { value: 0 };
  await withDispatcher(async ({ queue, dispatcher, running, leaseCalls, settled, clock }) => {
    await queue.enqueue([item('h1', 'held'), item('h2', 'held'), item('o1', 'other')]);
    dispatcher.start();
    await settled();
    assert.deepEqual([...running.keys()], [], 'no partition runs at 0');
    dispatcher.accepted('held');
    clock.advance(1_000); // ten polls
    await settled();
    assert.deepEqual([...running.keys()], []);
    assert.deepEqual(await queue.depth('held'), { due: 2, delayed: 0, leased: 0 }, 'held items stay due, not leased');
    const before = leaseCalls();
    // A deploy raises it: the wake it sends starts the held work without waiting for a poll.
    concurrency.value = 2;
    dispatcher.accepted('held');
    await settled();
    assert.deepEqual([...running.keys()].sort(), ['h1', 'h2', 'o1']);
    assert.equal(leaseCalls() - before, 1, 'one lease took what the raise let run');
  }, concurrency);
});
