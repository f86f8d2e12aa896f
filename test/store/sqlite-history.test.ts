/**
 * SqliteHistory: the history contract, query plans that read index ranges, and a SIGKILL in the
 * middle of batched writes that leaves every batch reported written, with a ledger that agrees.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { HISTORY_SQL, historyListSql } from '../../src/store/sqlite-history-sql.js';
import { HISTORY_DB_FILE, SEGMENTS_DIR, SqliteHistory } from '../../src/store/sqlite-history.js';
import { idsReportedBeforeSigkill } from '../support/kill-mid-write.js';
import { historyRecord } from './history-samples.js';
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

test('query plans: listings, sweeps and the ledger read index ranges, never the whole table, and listings sort nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  const history = await SqliteHistory.open(dir);
  try {
    const db = history.database;
    const plan = (sql: string, params: unknown[] | Record<string, unknown>) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    for (const fn of [false, true]) {
      for (const upper of [false, true]) {
        const filters = { function: fn, status: 'failed' as const, since: true, upper };
        const params: Record<string, unknown> = { sources: 1, since: 0, ...(upper ? { upper: 1 } : {}), ...(fn ? { function: 'f' } : {}) };
        const detail = plan(historyListSql(filters), params);
        assert.match(detail, fn ? /USING INDEX segments_by_function/ : /USING INDEX segments_by_time/, detail);
        assert.doesNotMatch(detail, /SCAN segments(?! USING)|TEMP B-TREE FOR ORDER BY/, detail);
      }
    }
    const usage = plan(HISTORY_SQL.usageByFunction, { since: 0, until: 1, function: null });
    assert.match(usage, /usage_by_hour|sqlite_autoindex_usage_hourly/, usage);
    assert.match(plan(HISTORY_SQL.expiredSegments, [1]), /USING (COVERING )?INDEX segments_by_first/);
    const oldest = plan(HISTORY_SQL.oldestSegments, [1]);
    assert.match(oldest, /USING (COVERING )?INDEX segments_by_first/, oldest);
    assert.doesNotMatch(oldest, /TEMP B-TREE/, oldest);
    assert.match(plan(HISTORY_SQL.lastAttempt, ['x']), /SEARCH record_ids USING PRIMARY KEY/);
  } finally {
    await history.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sync records with a UUIDv7 id made as they started are found by id range, without an id row of their own', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  const history = await SqliteHistory.open(dir);
  try {
    const now = Date.UTC(2026, 11, 5, 12);
    // uuid's v7 takes the time it writes into the id.
    const sync = Array.from({ length: 3 }, (_, i) => historyRecord(uuidv7({ msecs: now + i }), now + i + 2));
    const late = historyRecord(uuidv7({ msecs: now - 5000 }), now, { path: '/started long after its id' });
    const async = historyRecord(uuidv7({ msecs: now }), now + 1, { source: 'async' });
    const other = historyRecord('not-a-uuid', now);
    await history.append([...sync, late, async, other]);
    const rows = history.database.prepare('SELECT id FROM record_ids ORDER BY id').pluck().all() as string[];
    assert.deepEqual(rows, [late.id, async.id, other.id].sort(), 'only records that cannot be found by range have an id row');
    for (const record of [...sync, late, async, other]) assert.deepEqual(await history.get(record.id), record);
    assert.equal(await history.get(uuidv7({ msecs: now + 1 })), undefined, 'an id inside the range but not stored');
    assert.equal((await history.list({ sources: ['http'], limit: 10 })).length, 5);
    // A removed record found by range is gone from lookups too.
    await history.sweep(now + 4, { retainMs: 1, maxRecords: 1000, ledgerRetainMs: 400 * 86_400_000 });
    assert.equal(await history.get(sync[0]!.id), undefined);
    assert.deepEqual(await history.get(sync[2]!.id), sync[2]);
    const plan = (history.database.prepare(`EXPLAIN QUERY PLAN ${HISTORY_SQL.segmentsHoldingId}`).all({ floor: 'a', id: 'b' }) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    assert.match(plan, /USING (COVERING )?INDEX segments_by_id/, plan);
  } finally {
    await history.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("segment files go once no segment lives in them; a segment whose bytes are gone reads as lost, the rest does not", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  const history = await SqliteHistory.open(dir);
  const files = () => readdirSync(join(dir, SEGMENTS_DIR)).sort();
  try {
    await history.append([historyRecord('a', T0, { function: 'one' }), historyRecord('b', T0 + 1, { function: 'two' })]);
    assert.deepEqual(files(), ['1.seg'], 'both segments of the batch in one file');
    await history.sweep(T0 + 3, { retainMs: 1, maxRecords: 1000, ledgerRetainMs: 400 * 86_400_000 });
    assert.equal((await history.list({ sources: ['http'], limit: 10 })).length, 0);
    assert.deepEqual(files(), ['1.seg'], 'the file being appended to stays');
    await history.close();
    // A new writer starts a file of its own; the old one, now without segments, goes at the next sweep.
    const reopened = await SqliteHistory.open(dir);
    try {
      await reopened.append([historyRecord('c', T0 + 10)]);
      assert.deepEqual(files(), ['1.seg', '2.seg']);
      await reopened.sweep(T0 + 10, { retainMs: 86_400_000, maxRecords: 1000, ledgerRetainMs: 400 * 86_400_000 });
      assert.deepEqual(files(), ['2.seg']);
    } finally {
      await reopened.close();
    }
    // As after a power cut that lost the file's pages but not the row saying where they were.
    rmSync(join(dir, SEGMENTS_DIR, '2.seg'));
    const afterLoss = await SqliteHistory.open(dir);
    try {
      assert.deepEqual(await afterLoss.list({ sources: ['http'], limit: 10 }), []);
      assert.equal(await afterLoss.get('c'), undefined);
      await afterLoss.append([historyRecord('d', T0 + 20)]);
      assert.deepEqual((await afterLoss.list({ sources: ['http'], limit: 10 })).map((r) => r.id), ['d']);
      assert.equal(await afterLoss.sweep(T0 + 20, { retainMs: 86_400_000, maxRecords: 1000, ledgerRetainMs: 400 * 86_400_000 }), 0);
    } finally {
      await afterLoss.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a version 1 history.db (a row per record) opens with its records in segments and its ledger as it was', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  try {
    const v1 = new BetterSqlite3(join(dir, HISTORY_DB_FILE));
    v1.exec(V1_SCHEMA);
    const insert = v1.prepare('INSERT INTO records VALUES (?, 1, ?, 1, ?, \'GET\', ?, ?, ?, 210.5, 210, 256, 0.0525, ?, 10, 100, 0, 0.5, 0, 209.7, \'response\', \'succeeded\', 200, NULL)');
    for (let i = 0; i < 7; i++) insert.run(`old-${i}`, i % 2 ? 'one' : 'two', i === 3 ? 'async' : 'http', `/old-${i}`, T0 + i, T0 + i + 210, i === 5 ? null : 4);
    v1.prepare('INSERT INTO usage_hourly VALUES (\'one\', ?, 3, 0, 0.1575, 0.012, 630, 30, 300)').run(T0);
    v1.pragma('user_version = 1');
    v1.close();
    const history = await SqliteHistory.open(dir);
    try {
      assert.deepEqual(await history.get('old-4'), historyRecord('old-4', T0 + 4, { function: 'two', source: 'http' }));
      assert.equal((await history.get('old-5'))?.cpuMs, undefined);
      assert.deepEqual((await history.list({ sources: ['http'], limit: 10 })).map((r) => r.id), ['old-6', 'old-5', 'old-4', 'old-2', 'old-1', 'old-0']);
      assert.equal((await history.usage({ since: T0, until: T0 + 3_600_000, by: 'function' })).total.invocations, 3, 'the ledger is not counted again');
      const db = history.database;
      assert.equal(db.pragma('user_version', { simple: true }), 2);
      assert.equal(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'records'").pluck().get(), 0, 'the old table is gone');
    } finally {
      await history.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** 2026-12-01T00:00:00Z */
const T0 = Date.UTC(2026, 11, 1);

/** history.db as version 1 made it (before records were kept in segments). */
const V1_SCHEMA = `
  CREATE TABLE records (
    id TEXT NOT NULL, attempt INTEGER NOT NULL, function TEXT NOT NULL, version INTEGER NOT NULL, source TEXT NOT NULL,
    method TEXT NOT NULL, path TEXT NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, duration_ms REAL NOT NULL,
    billed_ms INTEGER NOT NULL, memory_mb INTEGER NOT NULL, gb_seconds REAL NOT NULL, cpu_ms REAL, bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL, cold INTEGER NOT NULL, queue_ms REAL NOT NULL, start_ms REAL NOT NULL, handler_ms REAL NOT NULL,
    outcome TEXT NOT NULL, status TEXT NOT NULL, http_status INTEGER, error_code TEXT, PRIMARY KEY (id, attempt)
  );
  CREATE INDEX records_by_time ON records (started_at, id);
  CREATE INDEX records_by_function ON records (function, started_at, id);
  CREATE TABLE usage_hourly (
    function TEXT NOT NULL, hour INTEGER NOT NULL, invocations INTEGER NOT NULL, errors INTEGER NOT NULL, gb_seconds REAL NOT NULL,
    cpu_seconds REAL NOT NULL, billed_ms INTEGER NOT NULL, bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, PRIMARY KEY (function, hour)
  );
  CREATE INDEX usage_by_hour ON usage_hourly (hour);
`;

test('a SIGKILL mid-way loses no batch that was reported written, its records read back whole, and the ledger counts exactly the records', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-'));
  try {
    const written = await idsReportedBeforeSigkill(join(import.meta.dirname, 'fixtures', 'append-until-killed.js'), dir, 'written');
    const db = new BetterSqlite3(join(dir, HISTORY_DB_FILE), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const present = new Set(db.prepare('SELECT id FROM record_ids').pluck().all() as string[]);
      assert.deepEqual(written.filter((id) => !present.has(id)), []);
      const counted = db.prepare('SELECT SUM(invocations) FROM usage_hourly').pluck().get() as number;
      assert.equal(counted, present.size, 'records and roll-ups are written in one transaction');
    } finally {
      db.close();
    }
    // The segment files' bytes survived too: every written record reads back.
    const history = await SqliteHistory.open(dir);
    try {
      const missing: string[] = [];
      for (const id of written) if ((await history.get(id))?.id !== id) missing.push(id);
      assert.deepEqual(missing, []);
      assert.ok((await history.list({ sources: ['http'], limit: 1001 })).length >= Math.min(1001, written.length), 'listed too');
    } finally {
      await history.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
