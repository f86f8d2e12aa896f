import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { INVOCATION_STATUSES } from '../../src/api/wire.js';
import { isNimbusError } from '../../src/core/errors.js';
import type { InvocationQuery, InvocationRepository } from '../../src/store/invocation-types.js';
import { invocationRetentionContract } from './invocation-retention-contract.js';
import { fullRecord, record, T0 } from './invocation-samples.js';
import { type OpenStore, storeFixture } from './store-fixture.js';

/**
 * The behaviour every {@link InvocationRepository} must have, run on the `invocations` of stores
 * made by `open` (see {@link OpenStore}). Dead letters, counts and retention are in
 * invocation-retention-contract.ts, run from here.
 */
export function invocationRepositoryContract(name: string, open: OpenStore): void {
  describe(`InvocationRepository contract: ${name}`, () => {
    const fresh = storeFixture(open, 'nimbus-invocations-');
    const invocationsOf = async (dir?: string): Promise<InvocationRepository> => (await fresh(dir)).store.invocations;

    test('a new store has no records', async () => {
      const invocations = await invocationsOf();
      assert.equal(await invocations.get('nope'), undefined);
      assert.equal(await invocations.update('nope', { status: 'running' }), false);
      assert.equal(await invocations.findByIdempotencyKey('fn-a', 'k', 0), undefined);
      assert.deepEqual(await invocations.list({ limit: 10 }), { records: [] });
      assert.equal(await invocations.deleteFunction('fn-a'), 0);
    });

    test('get answers a created record whole: every field, binary bodies byte for byte', async () => {
      const invocations = await invocationsOf();
      const minimal = record('min');
      // As accepted: a new record's columns only, with its key and trigger (stored by another statement in SQLite).
      const accepted = record('accepted', { idempotencyKey: 'key-1', trigger: 'nightly' });
      await invocations.create([fullRecord('full'), minimal, accepted]);
      assert.deepEqual(await invocations.get('full'), fullRecord('full'));
      assert.deepEqual(await invocations.get('min'), minimal, 'fields without a value are absent, not undefined');
      assert.deepEqual(await invocations.get('accepted'), accepted);
      const empty = record('empty', { response: { status: 204, headers: {}, body: Buffer.alloc(0), truncated: false }, request: Buffer.alloc(0) });
      await invocations.create([empty]);
      assert.deepEqual(await invocations.get('empty'), empty, 'empty bodies stay empty, not absent');
    });

    test('create keeps the row of an id already stored, within one call and across calls', async () => {
      const invocations = await invocationsOf();
      await invocations.create([record('a', { attempts: 1 }), record('a', { attempts: 2 })]);
      await invocations.create([record('a', { status: 'dead', attempts: 3 }), record('b')]);
      assert.deepEqual(await invocations.get('a'), record('a', { attempts: 1 }));
      assert.deepEqual(await invocations.get('b'), record('b'));
      await invocations.create([]);
    });

    test('records are copies: changing a passed or returned record changes nothing stored', async () => {
      const invocations = await invocationsOf();
      const given = fullRecord('c');
      const created = invocations.create([given]);
      // Changed before the create has resolved: what was stored is what was passed at the call.
      given.status = 'running';
      given.response!.body[0] = 0x7f;
      given.response!.headers['x-late'] = 'yes';
      given.request![0] = 0x01;
      given.error!.message = 'changed';
      await created;
      const got = await invocations.get('c');
      assert.deepEqual(got, fullRecord('c'));
      got!.response!.body[1] = 0x7f;
      got!.request![1] = 0x7f;
      got!.attempts = 99;
      assert.deepEqual(await invocations.get('c'), fullRecord('c'));
      const listed = (await invocations.list({ limit: 1 })).records[0]!;
      listed.response!.body[2] = 0x7f;
      assert.deepEqual(await invocations.get('c'), fullRecord('c'));
    });

    test('update writes only the fields present, and a field present as undefined is cleared', async () => {
      const invocations = await invocationsOf();
      await invocations.create([fullRecord('u')]);
      assert.equal(await invocations.update('u', { status: 'retrying', attempts: 4 }), true);
      assert.deepEqual(await invocations.get('u'), { ...fullRecord('u'), status: 'retrying', attempts: 4 });

      assert.equal(await invocations.update('u', { version: undefined, error: undefined, response: undefined, request: undefined, nextAttemptAt: undefined }), true);
      const { version: _v, error: _e, response: _r, request: _q, nextAttemptAt: _n, ...kept } = fullRecord('u');
      assert.deepEqual(await invocations.get('u'), { ...kept, status: 'retrying', attempts: 4 });

      const response = { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ok'), truncated: false };
      assert.equal(await invocations.update('u', { status: 'succeeded', finishedAt: T0 + 99, response, error: { code: 'FUNCTION_ERROR', message: 'x' } }), true);
      const got = await invocations.get('u');
      assert.deepEqual([got?.status, got?.finishedAt, got?.response, got?.error], ['succeeded', T0 + 99, response, { code: 'FUNCTION_ERROR', message: 'x' }]);

      assert.equal(await invocations.update('u', {}), true, 'no changes: still answers whether the record exists');
      assert.equal(await invocations.update('missing', {}), false);
      assert.equal(await invocations.update('missing', { status: 'running' }), false);
    });

    test('update refuses to clear the fields every record has (status, attempts)', async () => {
      const invocations = await invocationsOf();
      await invocations.create([record('r')]);
      await assert.rejects(invocations.update('r', { status: undefined }));
      await assert.rejects(invocations.update('r', { attempts: undefined, finishedAt: 5 }));
      assert.deepEqual(await invocations.get('r'), record('r'), 'a refused update changes nothing');
    });

    test('findByIdempotencyKey answers the newest record of the function with the key since a time', async () => {
      const invocations = await invocationsOf();
      await invocations.create([
        record('old', { idempotencyKey: 'k', createdAt: T0 }),
        record('new-a', { idempotencyKey: 'k', createdAt: T0 + 100 }),
        record('new-b', { idempotencyKey: 'k', createdAt: T0 + 100 }),
        record('other-fn', { function: 'fn-b', idempotencyKey: 'k', createdAt: T0 + 200 }),
        record('other-key', { idempotencyKey: 'k2', createdAt: T0 + 300 }),
        record('no-key', { createdAt: T0 + 400 }),
      ]);
      assert.equal(await invocations.findByIdempotencyKey('fn-a', 'k', 0), 'new-b', 'same time: the larger id, as listings order them');
      assert.equal(await invocations.findByIdempotencyKey('fn-a', 'k', T0 + 100), 'new-b', 'since is inclusive');
      assert.equal(await invocations.findByIdempotencyKey('fn-a', 'k', T0 + 101), undefined, 'older than the window');
      assert.equal(await invocations.findByIdempotencyKey('fn-b', 'k', 0), 'other-fn');
      assert.equal(await invocations.findByIdempotencyKey('fn-a', 'k2', 0), 'other-key');
      assert.equal(await invocations.findByIdempotencyKey('fn-a', 'nope', 0), undefined);
    });

    test('list answers newest first (createdAt, then id) with each filter, pages joining without gaps or repeats', async () => {
      const invocations = await invocationsOf();
      // Groups of four share a createdAt, so pages must break ties by id; ids are not in time order.
      const all = Array.from({ length: 30 }, (_, i) =>
        record(`r${String((i * 7) % 30).padStart(2, '0')}`, {
          createdAt: T0 + Math.floor(i / 4),
          function: i % 2 === 0 ? 'fn-a' : 'fn-b',
          status: INVOCATION_STATUSES[i % INVOCATION_STATUSES.length],
        }),
      );
      await invocations.create([...all].reverse());
      const newestFirst = [...all].sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1));
      const filters: Omit<InvocationQuery, 'limit'>[] = [{}, { function: 'fn-a' }, { status: 'queued' }, { function: 'fn-b', status: 'running' }, { function: 'fn-c' }];
      for (const filter of filters) {
        const expected = newestFirst.filter((r) => (!filter.function || r.function === filter.function) && (!filter.status || r.status === filter.status)).map((r) => r.id);
        for (const limit of [1, 3, 4, 1000]) {
          const seen: string[] = [];
          let page = await invocations.list({ ...filter, limit });
          for (let pages = 1; ; pages++) {
            assert.ok(page.records.length <= limit);
            seen.push(...page.records.map((r) => r.id));
            if (!page.next) break;
            assert.ok(pages < 40, 'paging ends');
            assert.deepEqual(page.next, { createdAt: page.records.at(-1)!.createdAt, id: page.records.at(-1)!.id });
            page = await invocations.list({ ...filter, limit, after: page.next });
          }
          assert.deepEqual(seen, expected, `${JSON.stringify(filter)} limit ${limit}`);
          // `next` only when more may follow: the last page has none, even when it is full.
          if (expected.length > 0 && expected.length % limit === 0) assert.equal(page.records.length, limit);
        }
      }
    });

    test('list leaves the request out and keeps the response', async () => {
      const invocations = await invocationsOf();
      await invocations.create([fullRecord('l')]);
      const { request: _request, ...listed } = fullRecord('l');
      const { records } = await invocations.list({ limit: 5, function: 'fn-a', status: 'dead' });
      assert.deepEqual(records, [listed]);
      assert.equal('request' in records[0]!, false);
      assert.deepEqual((await invocations.list({ limit: 5 })).records, [listed]);
    });

    test('list refuses a limit outside 1 to 1000', async () => {
      const invocations = await invocationsOf();
      for (const limit of [0, -1, 1001, 1.5, Number.NaN]) await assert.rejects(invocations.list({ limit }), RangeError, `limit ${limit}`);
    });

    test('calls see the creates made before them, even within the same turn', async () => {
      const invocations = await invocationsOf();
      const created = invocations.create([record('same-turn', { idempotencyKey: 'k' })]);
      const got = invocations.get('same-turn');
      const updated = invocations.update('same-turn', { status: 'running' });
      const found = invocations.findByIdempotencyKey('fn-a', 'k', 0);
      const listed = invocations.list({ limit: 10 });
      const [, gotRecord, wasUpdated, foundId, page] = await Promise.all([created, got, updated, found, listed]);
      assert.equal(gotRecord?.status, 'queued', 'get ran after the create and before the update');
      assert.equal(wasUpdated, true);
      assert.equal(foundId, 'same-turn');
      assert.deepEqual(page.records.map((r) => [r.id, r.status]), [['same-turn', 'running']]);
    });

    test('5,000 creates made at once all land and are all readable', async () => {
      const invocations = await invocationsOf();
      const count = 5_000;
      await Promise.all(Array.from({ length: count }, (_, i) => invocations.create([record(`many-${i}`, { createdAt: T0 + i })])));
      const seen = new Set<string>();
      let page = await invocations.list({ limit: 1000 });
      for (;;) {
        for (const r of page.records) seen.add(r.id);
        if (!page.next) break;
        page = await invocations.list({ limit: 1000, after: page.next });
      }
      assert.equal(seen.size, count);
      assert.equal((await invocations.countByStatus()).queued, count);
      assert.deepEqual(await invocations.get('many-4321'), record('many-4321', { createdAt: T0 + 4321 }));
    });

    test('records survive close and reopen, creates still uncommitted at close included', async () => {
      const { store, dir } = await fresh();
      await store.invocations.create([fullRecord('kept')]);
      // Not awaited before close: an accepted invocation must not be lost to a shutdown.
      const late = store.invocations.create([record('late')]);
      await store.close();
      await late;
      const reopened = await invocationsOf(dir);
      assert.deepEqual(await reopened.get('kept'), fullRecord('kept'));
      assert.deepEqual(await reopened.get('late'), record('late'));
    });

    test('a closed store refuses every invocation call with SHUTTING_DOWN', async () => {
      const { store } = await fresh();
      const invocations = store.invocations;
      await store.close();
      const calls: (() => Promise<unknown>)[] = [
        () => invocations.create([record('x')]),
        () => invocations.get('x'),
        () => invocations.update('x', { status: 'running' }),
        () => invocations.findByIdempotencyKey('fn-a', 'k', 0),
        () => invocations.list({ limit: 1 }),
        () => invocations.listDead('fn-a'),
        () => invocations.purgeDead('fn-a'),
        () => invocations.deleteFunction('fn-a'),
        () => invocations.sweep(T0, { retainMs: 0, maxEnded: 0, maxDeadPerFunction: 0 }),
        () => invocations.countByStatus(),
      ];
      for (const call of calls) await assert.rejects(call(), (err: unknown) => isNimbusError(err) && err.code === 'SHUTTING_DOWN');
    });

    invocationRetentionContract(invocationsOf);
  });
}
