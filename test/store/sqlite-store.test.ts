import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrate, MIGRATIONS } from '../../src/store/migrations.js';
import { DB_FILE, SqliteStore } from '../../src/store/sqlite.js';
import { authRepositoryContract } from './auth-contract.js';
import { functionRepositoryContract } from './function-contract.js';
import { invocationRepositoryContract } from './invocation-contract.js';
import { secretRepositoryContract } from './secret-contract.js';
import { triggerRepositoryContract } from './trigger-contract.js';

const openSqlite = (dir: string) => SqliteStore.open(dir);
functionRepositoryContract('SqliteStore', openSqlite);
secretRepositoryContract('SqliteStore', openSqlite);
authRepositoryContract('SqliteStore', openSqlite);
invocationRepositoryContract('SqliteStore', openSqlite);
triggerRepositoryContract('SqliteStore', openSqlite);

test('SqliteStore uses WAL and records the schema version', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-sqlite-'));
  try {
    const store = await SqliteStore.open(dir);
    await store.close();
    const db = new BetterSqlite3(join(dir, DB_FILE), { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('migrate runs only the migrations a database has not seen, and refuses a newer schema', () => {
  const db = new BetterSqlite3(':memory:');
  migrate(db, ['CREATE TABLE a (x INTEGER)']);
  migrate(db, ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)']);
  assert.equal(db.pragma('user_version', { simple: true }), 2);
  assert.throws(() => migrate(db, ['CREATE TABLE a (x INTEGER)']), /newer than this Nimbus understands/);
  db.close();
});
