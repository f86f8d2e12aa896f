/**
 * The contract every HistoryRepository passes: records listed newest first with filters and
 * pagination, attempts added up per id, the ledger fed in the same transaction as the records
 * (a record stored twice is counted once), grouped usage, and retention that leaves the ledger.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryRepository } from '../../src/store/history-types.js';
import { historyRecord } from './history-samples.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2026-12-01T00:00:00Z */
const T0 = Date.UTC(2026, 11, 1);

export function historyContract(name: string, open: () => Promise<{ history: HistoryRepository; done(): Promise<void> }>): void {
  const withHistory = async (fn: (history: HistoryRepository) => Promise<void>) => {
    const { history, done } = await open();
    try {
      await fn(history);
    } finally {
      await done();
    }
  };

  test(`${name}: lists newest first, filtered by function, status, source and time, page by page`, () =>
    withHistory(async (history) => {
      await history.append([
        historyRecord('a', T0 + 1000, { function: 'one' }),
        historyRecord('b', T0 + 2000, { function: 'two', status: 'failed', outcome: 'error', errorCode: 'FUNCTION_TIMEOUT', httpStatus: undefined }),
        historyRecord('c', T0 + 3000, { function: 'one', source: 'trigger' }),
        historyRecord('d', T0 + 3000, { function: 'one' }),
        historyRecord('e', T0 + 4000, { function: 'one', source: 'async' }),
      ]);
      const ids = async (query: Partial<Parameters<HistoryRepository['list']>[0]>) =>
        (await history.list({ sources: ['http', 'trigger'], limit: 100, ...query })).map((r) => r.id);
      assert.deepEqual(await ids({}), ['d', 'c', 'b', 'a'], 'newest first, ties by id descending; async attempts not asked for');
      assert.deepEqual(await ids({ function: 'one' }), ['d', 'c', 'a']);
      assert.deepEqual(await ids({ status: 'failed' }), ['b']);
      assert.deepEqual(await ids({ sources: ['trigger'] }), ['c']);
      assert.deepEqual(await ids({ since: T0 + 2000, until: T0 + 3000 }), ['d', 'c', 'b'], 'both bounds inclusive');
      assert.deepEqual(await ids({ limit: 2 }), ['d', 'c']);
      assert.equal((await ids({ limit: 1001 })).length, 4, 'a page of 1000 and one more may be asked for');
      assert.deepEqual(await ids({ limit: 2, after: { startedAt: T0 + 3000, id: 'c' } }), ['b', 'a'], 'the next page starts after the cursor');
      const b = (await history.list({ sources: ['http'], status: 'failed', limit: 1 }))[0];
      assert.equal(b?.errorCode, 'FUNCTION_TIMEOUT');
      assert.equal(b?.httpStatus, undefined);
      assert.deepEqual(await history.get('a'), historyRecord('a', T0 + 1000, { function: 'one' }), 'a record reads back as written');
      assert.equal(await history.get('nope'), undefined);
    }));

  test(`${name}: the attempts of an async invocation add up; the last one's timings are kept`, () =>
    withHistory(async (history) => {
      await history.append([
        historyRecord('x', T0, { source: 'async', attempt: 1, billedMs: 100, gbSeconds: 0.025, cpuMs: 3, coldStart: true, startMs: 50 }),
        historyRecord('x', T0 + 5000, { source: 'async', attempt: 2, billedMs: 300, gbSeconds: 0.075, cpuMs: 7, coldStart: false, startMs: 0, handlerMs: 300 }),
        historyRecord('y', T0, { source: 'async', cpuMs: undefined }),
      ]);
      const totals = await history.totalsOf(['x', 'y', 'unknown']);
      assert.equal(totals.size, 2);
      const x = totals.get('x')!;
      assert.equal(x.attempts, 2);
      assert.equal(x.billedMs, 400);
      assert.ok(Math.abs(x.gbSeconds - 0.1) < 1e-9);
      assert.equal(x.cpuMs, 10);
      assert.equal(x.coldStart, false, 'of the last attempt');
      assert.equal(x.handlerMs, 300);
      assert.equal(totals.get('y')!.cpuMs, undefined, 'no attempt reported CPU time');
    }));

  test(`${name}: the ledger adds records by function and hour, once each, in the same write`, () =>
    withHistory(async (history) => {
      const first = [
        historyRecord('a', T0 + 10, { function: 'one', gbSeconds: 0.5, billedMs: 2000, cpuMs: 1500, bytesIn: 1, bytesOut: 2 }),
        historyRecord('b', T0 + HOUR + 10, { function: 'one', gbSeconds: 0.25, billedMs: 1000, cpuMs: 500, status: 'failed' }),
        historyRecord('c', T0 + DAY + 10, { function: 'two', gbSeconds: 1, billedMs: 4000, cpuMs: undefined }),
      ];
      await history.append(first);
      // Written again (a batch retried): neither the records nor the ledger count it twice.
      await history.append([first[0]!]);
      const byFunction = await history.usage({ since: T0, until: T0 + 2 * DAY, by: 'function' });
      assert.deepEqual(
        byFunction.rows.map((r) => [r.key, r.invocations, r.errors, r.gbSeconds, r.billedMs, r.cpuSeconds]),
        [
          ['one', 2, 1, 0.75, 3000, 2],
          ['two', 1, 0, 1, 4000, 0],
        ],
      );
      assert.equal(byFunction.total.invocations, 3);
      assert.equal(byFunction.total.gbSeconds, 1.75);
      const byHour = await history.usage({ since: T0, until: T0 + 2 * DAY, by: 'hour' });
      assert.deepEqual(byHour.rows.map((r) => [r.key, r.invocations]), [
        [new Date(T0).toISOString(), 1],
        [new Date(T0 + HOUR).toISOString(), 1],
        [new Date(T0 + DAY).toISOString(), 1],
      ]);
      const byDay = await history.usage({ since: T0, until: T0 + 2 * DAY, by: 'day', function: 'one' });
      assert.deepEqual(byDay.rows.map((r) => [r.key, r.invocations, r.bytesIn]), [[new Date(T0).toISOString(), 2, 11]]);
      const oneHour = await history.usage({ since: T0 + HOUR, until: T0 + 2 * HOUR, by: 'function' });
      assert.deepEqual(oneHour.rows.map((r) => [r.key, r.invocations]), [['one', 1]], 'hours whose start is in [since, until)');
    }));

  test(`${name}: retention removes old and excess records; the ledger outlives them`, () =>
    withHistory(async (history) => {
      await history.append(Array.from({ length: 10 }, (_, i) => historyRecord(`r${i}`, T0 + i * HOUR)));
      const now = T0 + 10 * HOUR;
      // Records started more than 5 h before now go (r0..r4); then at most 3 are kept (r7..r9).
      assert.equal(await history.sweep(now, { retainMs: 5 * HOUR + 1, maxRecords: 3, ledgerRetainMs: 400 * DAY }), 7);
      assert.deepEqual((await history.list({ sources: ['http'], limit: 100 })).map((r) => r.id), ['r9', 'r8', 'r7']);
      assert.equal((await history.usage({ since: T0, until: now, by: 'function' })).total.invocations, 10, 'the roll-ups are still there');
      await history.sweep(T0 + 401 * DAY, { retainMs: DAY, maxRecords: 1000, ledgerRetainMs: 400 * DAY });
      assert.equal((await history.usage({ since: T0, until: now, by: 'function' })).total.invocations, 0, 'roll-ups older than the ledger keeps go');
    }));

  test(`${name}: removing a function's records leaves the others and the ledger`, () =>
    withHistory(async (history) => {
      await history.append([historyRecord('a', T0, { function: 'gone' }), historyRecord('b', T0, { function: 'kept' })]);
      assert.equal(await history.deleteFunction('gone'), 1);
      assert.deepEqual((await history.list({ sources: ['http'], limit: 10 })).map((r) => r.id), ['b']);
      assert.equal((await history.usage({ since: T0, until: T0 + HOUR, by: 'function', function: 'gone' })).total.invocations, 1);
    }));

  test(`${name}: once closed, every call rejects with SHUTTING_DOWN`, async () => {
    const { history, done } = await open();
    await history.close();
    await assert.rejects(history.append([historyRecord('z', T0)]), { code: 'SHUTTING_DOWN' });
    await assert.rejects(history.list({ sources: ['http'], limit: 1 }), { code: 'SHUTTING_DOWN' });
    await done();
  });
}
