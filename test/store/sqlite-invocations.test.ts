/**
 * What the SQLite invocation records do beyond the contract (run in sqlite-store.test.ts): group
 * commit, durability across a SIGKILL, and query plans that read index ranges.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { idsReportedBeforeSigkill } from '../support/kill-mid-write.js';
import BetterSqlite3 from 'better-sqlite3';
import type { InvocationStatus } from '../../src/store/invocation-types.js';
import { INVOCATION_SQL, LIST_SHAPES, listSql } from '../../src/store/sqlite-invocation-sql.js';
import { DB_FILE, SqliteStore } from '../../src/store/sqlite.js';
import { record } from './invocation-samples.js';

async function withStore(fn: (store: SqliteStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-invocations-'));
  const store = await SqliteStore.open(dir);
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('group commit: the creates of one turn share transactions, awaited ones cannot', async () => {
  await withStore(async (store) => {
    const invocations = store.invocations;
    const before = invocations.commits;
    await Promise.all(Array.from({ length: 5_000 }, (_, i) => invocations.create([record(`c${i}`)])));
    const concurrent = invocations.commits - before;
    assert.ok(concurrent >= 1 && concurrent <= 5, `5,000 creates of one turn in at most 5 transactions (1,000 each), got ${concurrent}`);

    const mid = invocations.commits;
    for (let i = 0; i < 20; i++) await invocations.create([record(`s${i}`)]);
    assert.equal(invocations.commits - mid, 20, 'each awaited create is its own turn, so its own transaction');
    assert.equal((await invocations.countByStatus()).queued, 5_020);
  });
});

test('a create whose record breaks the schema fails alone and whole; the other creates of its turn are stored', async () => {
  await withStore(async (store) => {
    const invocations = store.invocations;
    const first = invocations.create([record('good-1')]);
    const bad = invocations.create([record('bad-1'), record('bad-2', { status: 'bogus' as InvocationStatus })]);
    const last = invocations.create([record('good-2')]);
    await assert.rejects(bad, /CHECK constraint failed/);
    await Promise.all([first, last]);
    assert.equal(await invocations.get('bad-1'), undefined, "the failed call's other records are not stored either");
    assert.ok(await invocations.get('good-1'));
    assert.ok(await invocations.get('good-2'));
  });
});

test('every created record whose create resolved before a SIGKILL is there after reopening', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-invocations-'));
  try {
    const created = await idsReportedBeforeSigkill(join(import.meta.dirname, 'fixtures', 'create-until-killed.js'), dir, 'created');

    const db = new BetterSqlite3(join(dir, DB_FILE));
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const present = new Set(db.prepare('SELECT id FROM invocations').pluck().all() as string[]);
      const missing = created.filter((id) => !present.has(id));
      console.log(`# created before SIGKILL: ${created.length}; stored: ${present.size}; created but missing: ${missing.length}`);
      assert.deepEqual(missing, []);
    } finally {
      db.close();
    }
    const store = await SqliteStore.open(dir);
    try {
      assert.equal((await store.invocations.get(created.at(-1)!))?.status, 'queued', 'the store opens the file and reads it');
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('query plans: no statement reads the whole table, and lookups and listings sort nothing', async () => {
  await withStore(async (_store, dir) => {
    const db = new BetterSqlite3(join(dir, DB_FILE), { readonly: true });
    try {
      const planOf = (sql: string): string[] => {
        const named = [...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!);
        const params = named.length > 0 ? [Object.fromEntries(named.map((n) => [n, 1]))] : Array.from(sql.matchAll(/\?/g), () => 1);
        return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);
      };
      // Merges may sort what they merged: at most a page per status, or the excess being removed.
      const statements = [
        ...Object.entries(INVOCATION_SQL)
          .filter(([name]) => !name.startsWith('insert'))
          .map(([name, sql]) => ({ name, sql, merges: name.startsWith('sweepExcess') })),
        ...LIST_SHAPES.map((shape) => ({ name: `list ${JSON.stringify(shape)}`, sql: listSql(shape), merges: !shape.status })),
      ];
      for (const { name, sql, merges } of statements) {
        const plan = planOf(sql);
        assert.ok(!plan.some((line) => /^SCAN invocations$/.test(line)), `${name} reads the whole table: ${plan.join('; ')}`);
        if (!merges) assert.ok(!plan.some((line) => line.includes('TEMP B-TREE')), `${name} sorts: ${plan.join('; ')}`);
      }
    } finally {
      db.close();
    }
  });
});
