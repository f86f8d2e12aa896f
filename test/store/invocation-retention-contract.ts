import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InvocationRecord, InvocationRepository, InvocationRetention } from '../../src/store/invocation-types.js';
import { ended, fullRecord, record, T0 } from './invocation-samples.js';

/** Retention that removes nothing, for tests of one rule at a time. */
const KEEP_ALL: InvocationRetention = { retainMs: Infinity, maxEnded: Infinity, maxDeadPerFunction: Infinity };

/**
 * The dead letters, counts and retention of the {@link InvocationRepository} contract (run by
 * invocation-contract.ts, whose stores `invocationsOf` opens).
 */
export function invocationRetentionContract(invocationsOf: () => Promise<InvocationRepository>): void {
  describe('dead letters, counts and retention', () => {
    const ids = (records: readonly InvocationRecord[]) => records.map((r) => r.id);
    const stored = async (invocations: InvocationRepository) => {
      const { records } = await invocations.list({ limit: 1000 });
      return ids(records).sort();
    };

    test('listDead answers the dead letters of one function, oldest first, with their requests', async () => {
      const invocations = await invocationsOf();
      await invocations.create([
        fullRecord('d1', { createdAt: T0 + 2, finishedAt: T0 + 50 }),
        fullRecord('d2', { createdAt: T0 + 1, finishedAt: T0 + 60 }),
        fullRecord('d3', { createdAt: T0 + 3, finishedAt: T0 + 40 }),
        fullRecord('failed', { status: 'failed' }),
        fullRecord('other-fn', { function: 'fn-b' }),
      ]);
      const all = await invocations.listDead('fn-a');
      assert.deepEqual(ids(all), ['d2', 'd1', 'd3'], 'by creation time');
      assert.deepEqual(all[0], fullRecord('d2', { createdAt: T0 + 1, finishedAt: T0 + 60 }), 'whole, request included');
      assert.deepEqual(ids(await invocations.listDead('fn-a', ['d3', 'd2', 'failed', 'other-fn', 'unknown', 'd3'])), ['d2', 'd3'], 'only dead letters of fn-a among the ids');
      assert.deepEqual(await invocations.listDead('fn-a', []), []);
      assert.deepEqual(await invocations.listDead('fn-c'), []);
    });

    test('purgeDead removes the dead letters of one function; deleteFunction every record of one', async () => {
      const invocations = await invocationsOf();
      await invocations.create([
        ended('a-dead-1', 'dead', T0),
        ended('a-dead-2', 'dead', T0 + 1),
        ended('a-done', 'succeeded', T0),
        record('a-queued'),
        ended('b-dead', 'dead', T0, 'fn-b'),
        record('b-queued', { function: 'fn-b' }),
      ]);
      assert.equal(await invocations.purgeDead('fn-a'), 2);
      assert.equal(await invocations.purgeDead('fn-a'), 0);
      assert.deepEqual(await stored(invocations), ['a-done', 'a-queued', 'b-dead', 'b-queued']);
      assert.equal(await invocations.deleteFunction('fn-b'), 2);
      assert.deepEqual(await stored(invocations), ['a-done', 'a-queued']);
      assert.equal(await invocations.deleteFunction('fn-b'), 0);
    });

    test('countByStatus counts every status, of all functions or of one, zero included', async () => {
      const invocations = await invocationsOf();
      const zero = { queued: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, dead: 0 };
      assert.deepEqual(await invocations.countByStatus(), zero);
      await invocations.create([record('q1'), record('q2'), record('r', { status: 'running' }), ended('d', 'dead', T0), record('b', { function: 'fn-b' })]);
      assert.deepEqual(await invocations.countByStatus(), { ...zero, queued: 3, running: 1, dead: 1 });
      assert.deepEqual(await invocations.countByStatus('fn-a'), { ...zero, queued: 2, running: 1, dead: 1 });
      assert.deepEqual(await invocations.countByStatus('fn-b'), { ...zero, queued: 1 });
      assert.deepEqual(await invocations.countByStatus('fn-c'), zero);
    });

    test('sweep removes succeeded and failed records finished before now - retainMs, nothing else', async () => {
      const invocations = await invocationsOf();
      const now = T0 + 10_000;
      await invocations.create([
        ended('old-ok', 'succeeded', now - 1_001),
        ended('old-failed', 'failed', T0),
        ended('at-cutoff', 'succeeded', now - 1_000),
        ended('recent', 'failed', now - 10),
        ended('old-dead', 'dead', T0),
        record('old-queued', { createdAt: T0 - 1_000_000 }),
        record('old-running', { status: 'running', startedAt: T0 }),
        record('old-retrying', { status: 'retrying', attempts: 1, finishedAt: T0, nextAttemptAt: now + 1 }),
      ]);
      assert.equal(await invocations.sweep(now, { ...KEEP_ALL, retainMs: 1_000 }), 2);
      assert.deepEqual(await stored(invocations), ['at-cutoff', 'old-dead', 'old-queued', 'old-retrying', 'old-running', 'recent']);
      assert.equal(await invocations.sweep(now, { ...KEEP_ALL, retainMs: 1_000 }), 0);
    });

    test('sweep keeps at most maxEnded succeeded and failed records, the earliest finished going first', async () => {
      const invocations = await invocationsOf();
      await invocations.create([
        // Created in the opposite order of finishing: the rule goes by finishedAt.
        record('e1', { status: 'succeeded', createdAt: T0 + 5, finishedAt: T0 + 10 }),
        record('e2', { status: 'failed', createdAt: T0 + 4, finishedAt: T0 + 20 }),
        record('e3', { status: 'succeeded', createdAt: T0 + 3, finishedAt: T0 + 30 }),
        record('e4', { status: 'failed', createdAt: T0 + 2, finishedAt: T0 + 40 }),
        record('e5', { status: 'succeeded', createdAt: T0 + 1, finishedAt: T0 + 50 }),
        ended('dead', 'dead', T0),
        record('queued'),
      ]);
      assert.equal(await invocations.sweep(T0 + 100, { ...KEEP_ALL, maxEnded: 2 }), 3);
      assert.deepEqual(await stored(invocations), ['dead', 'e4', 'e5', 'queued']);
      assert.equal(await invocations.sweep(T0 + 100, { ...KEEP_ALL, maxEnded: 2 }), 0);
      assert.equal(await invocations.sweep(T0 + 100, { ...KEEP_ALL, maxEnded: 0 }), 2);
      assert.deepEqual(await stored(invocations), ['dead', 'queued']);
    });

    test('sweep keeps at most maxDeadPerFunction dead letters per function, the oldest going first', async () => {
      const invocations = await invocationsOf();
      await invocations.create([
        // Finished in the opposite order of creation: dead letters age by createdAt, like listDead.
        ...[1, 2, 3, 4].map((n) => fullRecord(`a${n}`, { createdAt: T0 + n, finishedAt: T0 + 100 - n })),
        ...[1, 2].map((n) => fullRecord(`b${n}`, { function: 'fn-b', createdAt: T0 + n })),
        ended('a-ok', 'succeeded', T0),
      ]);
      assert.equal(await invocations.sweep(T0 + 1_000, { ...KEEP_ALL, maxDeadPerFunction: 2 }), 2);
      assert.deepEqual(ids(await invocations.listDead('fn-a')), ['a3', 'a4']);
      assert.deepEqual(ids(await invocations.listDead('fn-b')), ['b1', 'b2']);
      assert.equal(await invocations.sweep(T0 + 1_000, { ...KEEP_ALL, maxDeadPerFunction: 0 }), 4);
      assert.deepEqual(await stored(invocations), ['a-ok']);
    });

    test('sweep applies every rule in one call and answers the total removed', async () => {
      const invocations = await invocationsOf();
      const now = T0 + 10_000;
      await invocations.create([
        ended('expired', 'succeeded', T0),
        ended('oldest-kept-by-age', 'failed', now - 50),
        ended('newest', 'succeeded', now - 10),
        ended('dead-1', 'dead', now - 30),
        ended('dead-2', 'dead', now - 20),
        record('queued', { createdAt: T0 - 5 }),
      ]);
      assert.equal(await invocations.sweep(now, { retainMs: 1_000, maxEnded: 1, maxDeadPerFunction: 1 }), 3);
      assert.deepEqual(await stored(invocations), ['dead-2', 'newest', 'queued']);
    });

    test('sweep refuses negative bounds; Infinity is no bound', async () => {
      const invocations = await invocationsOf();
      await invocations.create([ended('ok', 'succeeded', T0), ended('dead', 'dead', T0)]);
      assert.equal(await invocations.sweep(T0 + 1e12, { retainMs: Infinity, maxEnded: Infinity, maxDeadPerFunction: Infinity }), 0);
      await assert.rejects(invocations.sweep(T0, { ...KEEP_ALL, retainMs: -1 }), RangeError);
      await assert.rejects(invocations.sweep(T0, { ...KEEP_ALL, maxEnded: -1 }), RangeError);
      await assert.rejects(invocations.sweep(T0, { ...KEEP_ALL, maxDeadPerFunction: Number.NaN }), RangeError);
    });
  });
}
