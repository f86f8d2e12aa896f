/**
 * SqliteHistory: the history contract, query plans that read index ranges, and a SIGKILL in the
 * middle of batched writes that leaves every batch reported written, with a ledger that agrees.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { HISTORY_SQL, historyListSql } from '../../src/store/sqlite-history-sql.js';
import { HISTORY_DB_FILE, SqliteHistory } from '../../src/store/sqlite-history.js';
import { idsReportedBeforeSigkill } from '../support/kill-mid-write.js';
import { historyContract } from './history-contract.js';

historyContract('SqliteHistory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  const history = await SqliteHistory.open(dir);
  return {
    history,
    async done() {
      await history.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test('query plans: listings and the ledger read index ranges, never the whole table, and listings sort nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  const history = await SqliteHistory.open(dir);
  try {
    const db = history.database;
    const plan = (sql: string, params: unknown[] | Record<string, unknown>) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    for (const fn of [false, true]) {
      for (const after of [false, true]) {
        const filters = { function: fn, status: true, since: true, until: true, after };
        const params: Record<string, unknown> = { sources: '["http"]', status: 'failed', since: 0, until: 1, limit: 10, ...(fn ? { function: 'f' } : {}), ...(after ? { afterStartedAt: 1, afterId: 'x' } : {}) };
        const detail = plan(historyListSql(filters), params);
        assert.match(detail, fn ? /USING INDEX records_by_function/ : /USING INDEX records_by_time/, detail);
        assert.doesNotMatch(detail, /SCAN records(?! USING)|TEMP B-TREE FOR ORDER BY/, detail);
      }
    }
    const usage = plan(HISTORY_SQL.usageByFunction, { since: 0, until: 1, function: null });
    assert.match(usage, /usage_by_hour|sqlite_autoindex_usage_hourly/, usage);
    assert.match(plan(HISTORY_SQL.sweepExpired, [1]), /USING (COVERING )?INDEX records_by_time/);
  } finally {
    await history.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a SIGKILL mid-way loses no batch that was reported written, and the ledger counts exactly the records', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  try {
    const written = await idsReportedBeforeSigkill(join(import.meta.dirname, 'fixtures', 'append-until-killed.js'), dir, 'written');
    const db = new BetterSqlite3(join(dir, HISTORY_DB_FILE), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const present = new Set(db.prepare('SELECT id FROM records').pluck().all() as string[]);
      assert.deepEqual(written.filter((id) => !present.has(id)), []);
      const counted = db.prepare('SELECT SUM(invocations) FROM usage_hourly').pluck().get() as number;
      assert.equal(counted, present.size, 'records and roll-ups are written in one transaction');
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
