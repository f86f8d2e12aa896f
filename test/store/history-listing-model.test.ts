/**
 * SqliteHistory's listing against a plain model: random records (overlapping time spans across
 * batches, several functions, sources and statuses, equal start times) appended in random
 * batches, then every filter combination paged through with the cursor must give exactly what
 * sorting and filtering all records gives. Seeded, so a failure repeats.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HistoryQuery, HistoryRecord } from '../../src/store/history-types.js';
import { SqliteHistory } from '../../src/store/sqlite-history.js';
import { historyRecord } from './history-samples.js';

const T0 = Date.UTC(2026, 11, 5);

/** mulberry32: a small seeded generator. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function model(all: readonly HistoryRecord[], query: HistoryQuery): HistoryRecord[] {
  return all
    .filter((r) => query.sources.includes(r.source))
    .filter((r) => query.function === undefined || r.function === query.function)
    .filter((r) => query.status === undefined || r.status === query.status)
    .filter((r) => (query.since === undefined || r.startedAt >= query.since) && (query.until === undefined || r.startedAt <= query.until))
    .sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

test('listings page through exactly what filtering and sorting every record gives', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-model-'));
  const history = await SqliteHistory.open(dir);
  try {
    const next = random(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const all: HistoryRecord[] = [];
    for (let batch = 0; batch < 40; batch++) {
      const records = Array.from({ length: 1 + Math.floor(next() * 30) }, () => {
        // Mostly recent starts, some far older (long invocations ending in this batch), many equal.
        const startedAt = T0 + batch * 100 + Math.floor(next() * 20) - (next() < 0.1 ? Math.floor(next() * 3000) : 0);
        const failed = next() < 0.2;
        return historyRecord(`r${all.length}-${Math.floor(next() * 1e6)}`, startedAt, {
          function: pick(['one', 'two', 'three']),
          source: pick(['http', 'http', 'trigger', 'async'] as const),
          status: failed ? 'failed' : 'succeeded',
        });
      });
      all.push(...records);
      await history.append(records);
    }
    const queries: HistoryQuery[] = [];
    for (const fn of [undefined, 'two']) {
      for (const status of [undefined, 'failed'] as const) {
        for (const sources of [['http', 'trigger'], ['trigger']] as const) {
          for (const span of [{}, { since: T0 + 500, until: T0 + 2500 }]) {
            queries.push({ sources, limit: 7, ...span, ...(fn ? { function: fn } : {}), ...(status ? { status } : {}) });
          }
        }
      }
    }
    for (const query of queries) {
      const expected = model(all, query).map((r) => r.id);
      const got: string[] = [];
      let after: HistoryQuery['after'];
      for (let page = 0; page < 500; page++) {
        const records = await history.list({ ...query, ...(after ? { after } : {}) });
        got.push(...records.map((r) => r.id));
        if (records.length < query.limit) break;
        const last = records[records.length - 1]!;
        after = { startedAt: last.startedAt, id: last.id };
      }
      assert.deepEqual(got, expected, JSON.stringify(query));
    }
  } finally {
    await history.close();
    await rm(dir, { recursive: true, force: true });
  }
});
