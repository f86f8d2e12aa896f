/**
 * The contract every Queue implementation passes (the embedded SQLite queue now, a NATS JetStream
 * one later): what the async workers and the triggers rely on, nothing about how it is stored.
 * Time is a ManualClock handed to the implementation, so visibility timeouts and retry delays are
 * stepped, not slept.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { Lease, Queue, QueueItem } from '../../src/queue/types.js';

/** What a contract run needs from the implementation under test. */
export interface QueueFixture {
  /** A fresh, empty queue reading time from `clock` (each test gets its own). */
  open(clock: ManualClock): Promise<Queue>;
  /** Removes what the fixture made, after every queue was closed. */
  cleanup?(): Promise<void>;
}

const START = 1_700_000_000_000;

function item(id: string, partition = 'fn-a', notBefore?: number): QueueItem {
  return { id, partition, payload: Buffer.from(`payload of ${id}`), ...(notBefore === undefined ? {} : { notBefore }) };
}

function items(count: number, partition: string, prefix = partition): QueueItem[] {
  return Array.from({ length: count }, (_, i) => item(`${prefix}-${i}`, partition));
}

const ids = (leases: readonly Lease[]) => leases.map((l) => l.item.id);

export function queueContract(name: string, make: () => Promise<QueueFixture>): void {
  describe(`queue contract: ${name}`, async () => {
    const fixture = await make();
    const queues: Queue[] = [];
    const fresh = async () => {
      const clock = new ManualClock(START);
      const queue = await fixture.open(clock);
      queues.push(queue);
      return { queue, clock };
    };
    after(async () => {
      await Promise.all(queues.map((q) => q.close()));
      await fixture.cleanup?.();
    });

    test('an enqueued item is leased once with its payload, is invisible while leased, and ack removes it', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([item('a1')]);
      const [lease, ...rest] = await queue.lease({ visibilityMs: 1_000, max: 5 });
      assert.equal(rest.length, 0);
      assert.ok(lease);
      assert.deepEqual(lease.item, { id: 'a1', partition: 'fn-a', payload: Buffer.from('payload of a1'), enqueuedAt: START });
      assert.equal(lease.attempt, 1);
      assert.equal(lease.expiresAt, START + 1_000);
      assert.equal(typeof lease.token, 'string');
      assert.deepEqual(await queue.lease({ visibilityMs: 1_000 }), [], 'leased: invisible to other leases');
      assert.equal(await queue.ack(lease), true);
      clock.advance(5_000);
      assert.deepEqual(await queue.lease({ visibilityMs: 1_000 }), [], 'acked: gone for good');
      assert.deepEqual(await queue.depth(), { due: 0, delayed: 0, leased: 0 });
    });

    test('items of one partition come out oldest first; an id already queued is not added twice', async () => {
      const { queue } = await fresh();
      await queue.enqueue([item('x1'), item('x2')]);
      await queue.enqueue([item('x1'), item('x3')]);
      assert.deepEqual(ids(await queue.lease({ visibilityMs: 1_000, max: 10 })), ['x1', 'x2', 'x3']);
    });

    test('a lease not settled within its visibility timeout is delivered again with attempt + 1; the old token is then refused', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([item('v1')]);
      const [first] = await queue.lease({ visibilityMs: 1_000 });
      clock.advance(999);
      assert.deepEqual(await queue.lease({ visibilityMs: 1_000 }), []);
      clock.advance(1);
      const [second] = await queue.lease({ visibilityMs: 1_000 });
      assert.equal(second?.item.id, 'v1');
      assert.equal(second.attempt, 2);
      assert.notEqual(second.token, first!.token);
      assert.equal(await queue.ack(first!), false, 'stale ack refused');
      assert.equal(await queue.retryLater(first!, 10), false, 'stale retry refused');
      assert.equal(await queue.extend(first!, 10), false, 'stale extend refused');
      assert.equal(await queue.giveUp(first!), false, 'stale giveUp refused');
      assert.equal(await queue.ack(second), true);
      assert.equal(await queue.ack(second), false, 'a lease settles once');
    });

    test('retryLater makes the item due again after exactly the delay, with the next attempt number', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([item('r1')]);
      const [lease] = await queue.lease({ visibilityMs: 60_000 });
      assert.equal(await queue.retryLater(lease!, 5_000), true);
      assert.deepEqual(await queue.depth(), { due: 0, delayed: 1, leased: 0 });
      clock.advance(4_999);
      assert.deepEqual(await queue.lease({ visibilityMs: 1_000 }), []);
      clock.advance(1);
      const [again] = await queue.lease({ visibilityMs: 1_000 });
      assert.equal(again?.item.id, 'r1');
      assert.equal(again.attempt, 2);
      assert.equal(await queue.ack(lease!), false, 'the retried lease is settled');
    });

    test('giveUp takes the item out of the queue for good', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([item('g1'), item('g2')]);
      const [lease] = await queue.lease({ visibilityMs: 1_000 });
      assert.equal(await queue.giveUp(lease!), true);
      clock.advance(10_000);
      assert.deepEqual(ids(await queue.lease({ visibilityMs: 1_000, max: 10 })), ['g2']);
      assert.deepEqual(await queue.depth(), { due: 0, delayed: 0, leased: 1 });
    });

    test('requeue replaces an item still in the queue, a leased one too: the lease turns stale, the new copy starts over', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([item('q1'), item('q2', 'fn-a', START + 60_000)]);
      const [held] = await queue.lease({ visibilityMs: 30_000 });
      assert.equal(held?.attempt, 1);
      clock.advance(1_000);
      const redriven = { id: 'q1', partition: 'fn-a', payload: Buffer.from('redriven') };
      await queue.requeue([redriven, { ...redriven, id: 'q2' }, { ...redriven, id: 'q3' }]);
      // The late settle of the old delivery must not take the redriven item with it.
      assert.equal(await queue.giveUp(held!), false, 'the held lease is stale');
      assert.equal(await queue.ack(held!), false);
      assert.deepEqual(await queue.depth(), { due: 3, delayed: 0, leased: 0 }, 'one copy of each id, due now');
      const leases = await queue.lease({ visibilityMs: 1_000, max: 10 });
      assert.deepEqual(new Set(ids(leases)), new Set(['q1', 'q2', 'q3']));
      for (const lease of leases) {
        assert.deepEqual(lease.item.payload, Buffer.from('redriven'));
        assert.equal(lease.attempt, 1, `${lease.item.id}: a fresh attempt count`);
        assert.equal(lease.item.enqueuedAt, START + 1_000, `${lease.item.id}: a fresh event age`);
      }
      // enqueue keeps its same-id rule: a duplicate of a queued item changes nothing.
      await queue.enqueue([{ ...redriven, payload: Buffer.from('duplicate') }]);
      assert.deepEqual(await queue.depth(), { due: 0, delayed: 0, leased: 3 });
    });

    test('extend keeps a lease alive from now on', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([item('e1')]);
      const [lease] = await queue.lease({ visibilityMs: 1_000 });
      clock.advance(900);
      assert.equal(await queue.extend(lease!, 1_000), true);
      clock.advance(999);
      assert.deepEqual(await queue.lease({ visibilityMs: 1_000 }), [], 'still leased until 1,900 ms');
      assert.equal(await queue.ack(lease!), true, 'the token stays valid');
    });

    test('notBefore holds an item back until then', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([item('n1', 'fn-a', START + 2_000), item('n2')]);
      assert.deepEqual(ids(await queue.lease({ visibilityMs: 60_000, max: 10 })), ['n2']);
      assert.deepEqual(await queue.depth('fn-a'), { due: 0, delayed: 1, leased: 1 });
      clock.advance(2_000);
      assert.deepEqual(ids(await queue.lease({ visibilityMs: 1_000, max: 10 })), ['n1']);
    });

    test('fair across partitions: 1,000 due items of A do not hold back the 3 of B', async () => {
      const { queue } = await fresh();
      await queue.enqueue(items(1_000, 'A'));
      await queue.enqueue(items(3, 'B'));
      const oneByOne: string[] = [];
      for (let i = 0; i < 6; i++) oneByOne.push(...ids(await queue.lease({ visibilityMs: 60_000 })));
      assert.deepEqual(oneByOne.filter((id) => id.startsWith('B-')), ['B-0', 'B-1', 'B-2'], `B within the first 6 leases: ${oneByOne.join(' ')}`);

      const { queue: q2 } = await fresh();
      await q2.enqueue(items(1_000, 'A'));
      await q2.enqueue(items(3, 'B'));
      const batch = ids(await q2.lease({ visibilityMs: 60_000, max: 6 }));
      assert.equal(batch.filter((id) => id.startsWith('B-')).length, 3, `one batch takes turns: ${batch.join(' ')}`);
    });

    test('the per-partition in-flight limit counts leases of earlier calls, and frees up on settle or expiry', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue(items(10, 'A'));
      await queue.enqueue(items(10, 'B'));
      const limit = (p: string) => (p === 'A' ? 2 : undefined);
      const first = await queue.lease({ visibilityMs: 1_000, max: 10, maxInFlight: limit });
      assert.equal(first.filter((l) => l.item.partition === 'A').length, 2);
      assert.equal(first.filter((l) => l.item.partition === 'B').length, 8);
      assert.deepEqual(ids(await queue.lease({ visibilityMs: 1_000, max: 10, maxInFlight: limit })), ['B-8', 'B-9']);
      assert.equal(await queue.ack(first.find((l) => l.item.partition === 'A')!), true);
      assert.deepEqual(ids(await queue.lease({ visibilityMs: 1_000, max: 10, maxInFlight: limit })), ['A-2']);
      assert.deepEqual(await queue.lease({ visibilityMs: 1_000, max: 10, maxInFlight: 2 }), []);
      clock.advance(1_000);
      assert.equal((await queue.lease({ visibilityMs: 1_000, max: 10, maxInFlight: 1 })).filter((l) => l.item.partition === 'A').length, 1);
    });

    test('a lease answers fewer than max only when it took everything leasable: the next lease finds nothing', async () => {
      const { queue, clock } = await fresh();
      // Three partitions, one of them limited, one with its items not due yet.
      await queue.enqueue(items(5, 'A'));
      await queue.enqueue(items(3, 'B'));
      await queue.enqueue([item('C-0', 'C', START + 5_000), item('C-1', 'C', START + 5_000)]);
      const limit = (p: string) => (p === 'A' ? 2 : undefined);
      for (const max of [1, 2, 3, 4]) {
        const got = await queue.lease({ visibilityMs: 60_000, max, maxInFlight: limit });
        assert.ok(got.length <= max);
        if (got.length < max) assert.deepEqual(await queue.lease({ visibilityMs: 60_000, max: 100, maxInFlight: limit }), [], `after ${got.length} of ${max}`);
      }
      // 2 of A (its limit) and all 3 of B were leased; C is not due: a lease of 100 takes nothing.
      assert.deepEqual(await queue.lease({ visibilityMs: 60_000, max: 100, maxInFlight: limit }), []);
      clock.advance(5_000);
      const due = await queue.lease({ visibilityMs: 60_000, max: 100, maxInFlight: limit });
      assert.deepEqual(ids(due).sort(), ['C-0', 'C-1'], 'once due, C is taken whole: fewer than 100, nothing left');
      assert.deepEqual(await queue.lease({ visibilityMs: 60_000, max: 100, maxInFlight: limit }), []);
    });

    test('remove(partition) drops that partition only, leased items too, and answers the count', async () => {
      const { queue } = await fresh();
      await queue.enqueue(items(5, 'A'));
      await queue.enqueue(items(3, 'B'));
      const [leased] = await queue.lease({ visibilityMs: 1_000 });
      assert.equal(leased?.item.partition, 'A');
      assert.equal(await queue.remove('A'), 5);
      assert.equal(await queue.remove('A'), 0);
      assert.equal(await queue.ack(leased), false, 'the lease went with its partition');
      assert.deepEqual(await queue.depth('A'), { due: 0, delayed: 0, leased: 0 });
      assert.deepEqual(await queue.depth('B'), { due: 3, delayed: 0, leased: 0 });
    });

    test('depth counts due, delayed and leased items, per partition and in all', async () => {
      const { queue, clock } = await fresh();
      await queue.enqueue([...items(4, 'A'), item('late', 'A', START + 60_000), ...items(2, 'B')]);
      await queue.lease({ visibilityMs: 1_000, max: 1, maxInFlight: (p) => (p === 'A' ? 1 : 0) });
      assert.deepEqual(await queue.depth('A'), { due: 3, delayed: 1, leased: 1 });
      assert.deepEqual(await queue.depth('B'), { due: 2, delayed: 0, leased: 0 });
      assert.deepEqual(await queue.depth(), { due: 5, delayed: 1, leased: 1 });
      assert.deepEqual(await queue.depth('none'), { due: 0, delayed: 0, leased: 0 });
      clock.advance(1_000);
      assert.deepEqual(await queue.depth('A'), { due: 4, delayed: 1, leased: 0 }, 'an expired lease is due again');
    });

    test('a few thousand items enqueued concurrently all resolve and are each leased exactly once', async () => {
      const { queue } = await fresh();
      const all = [...items(2_000, 'A'), ...items(1_000, 'B'), ...items(500, 'C')];
      await Promise.all([
        ...all.slice(0, 3_000).map((i) => queue.enqueue([i])),
        queue.enqueue(all.slice(3_000)),
      ]);
      const seen: string[] = [];
      for (;;) {
        const leases = await queue.lease({ visibilityMs: 60_000, max: 250 });
        if (leases.length === 0) break;
        seen.push(...ids(leases));
      }
      assert.equal(seen.length, all.length);
      assert.equal(new Set(seen).size, all.length, 'no item twice');
      assert.deepEqual(await queue.depth(), { due: 0, delayed: 0, leased: all.length });
    });

    test('bad arguments reject; calls after close reject', async () => {
      const { queue } = await fresh();
      await assert.rejects(queue.enqueue([{ id: '', partition: 'A', payload: Buffer.alloc(0) }]));
      await assert.rejects(queue.lease({ visibilityMs: 0 }));
      await assert.rejects(queue.lease({ visibilityMs: 1_000, max: 0 }));
      await queue.enqueue([item('c1')]);
      const [lease] = await queue.lease({ visibilityMs: 1_000 });
      await assert.rejects(queue.retryLater(lease!, -1));
      await queue.close();
      await queue.close();
      await assert.rejects(queue.enqueue([item('c2')]));
      await assert.rejects(queue.lease({ visibilityMs: 1_000 }));
    });
  });
}
