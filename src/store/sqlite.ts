import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { NimbusError } from '../core/errors.js';
import type { FunctionSpec } from '../core/spec.js';
import type { InvokeKeyRecord, TokenRecord } from './auth-types.js';
import { migrate } from './migrations.js';
import { SqliteAuthStatements } from './sqlite-auth.js';
import { SqliteSecrets } from './sqlite-secrets.js';
import type { BuildRef, FunctionRecord, SecretRecord, Store, StoredSecret } from './types.js';

/** File name of the embedded database inside the data directory. */
export const DB_FILE = 'nimbus.db';

/** Milliseconds a writer waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

interface RecordRow {
  version: number;
  spec_json: string;
  build_json: string;
  created_at: number;
  updated_at: number;
}

const SELECT_CURRENT = `
  SELECT v.version, v.spec_json, v.build_json, f.created_at, f.updated_at
  FROM functions f JOIN function_versions v ON v.name = f.name AND v.version = f.current_version`;

/**
 * The embedded function store: one SQLite file (`<dataDir>/nimbus.db`) in WAL mode.
 *
 * better-sqlite3 is synchronous, so every call completes before the next starts within one
 * process; writes use `BEGIN IMMEDIATE` so separate processes sharing the file serialise too.
 */
export class SqliteStore implements Store {
  private db: Database | undefined;
  private readonly statements: {
    get: Statement<[string], RecordRow>;
    list: Statement<[], RecordRow>;
    currentVersion: Statement<[string], { current_version: number; created_at: number }>;
    upsertFunction: Statement<[string, number, number, number]>;
    insertVersion: Statement<[string, number, string, string, number]>;
    deleteVersions: Statement<[string]>;
    deleteFunction: Statement<[string]>;
    buildIds: Statement<[], { build_id: string }>;
  };
  private readonly auth: SqliteAuthStatements;
  private readonly secrets: SqliteSecrets;

  private constructor(db: Database) {
    this.db = db;
    this.auth = new SqliteAuthStatements(db);
    this.statements = {
      get: db.prepare<[string], RecordRow>(`${SELECT_CURRENT} WHERE f.name = ?`),
      list: db.prepare<[], RecordRow>(`${SELECT_CURRENT} ORDER BY f.name`),
      currentVersion: db.prepare<[string], { current_version: number; created_at: number }>('SELECT current_version, created_at FROM functions WHERE name = ?'),
      upsertFunction: db.prepare<[string, number, number, number]>(
        `INSERT INTO functions (name, current_version, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET current_version = excluded.current_version, updated_at = excluded.updated_at`,
      ),
      insertVersion: db.prepare<[string, number, string, string, number]>(
        'INSERT INTO function_versions (name, version, spec_json, build_json, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      deleteVersions: db.prepare<[string]>('DELETE FROM function_versions WHERE name = ?'),
      deleteFunction: db.prepare<[string]>('DELETE FROM functions WHERE name = ?'),
      buildIds: db.prepare<[], { build_id: string }>("SELECT DISTINCT json_extract(build_json, '$.buildId') AS build_id FROM function_versions"),
    };
    this.secrets = new SqliteSecrets(db, () => this.handle());
  }

  /** Opens (creating if needed) the store in `dataDir` and brings its schema up to date. */
  static async open(dataDir: string): Promise<SqliteStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    // Created owner-only before SQLite opens it: SQLite gives its -wal and -shm files the same mode.
    await (await open(join(dataDir, DB_FILE), 'a', 0o600)).close();
    const db = new BetterSqlite3(join(dataDir, DB_FILE));
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode cannot corrupt the database; a power cut may only lose the last commits.
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new SqliteStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async getFunction(name: string): Promise<FunctionRecord | undefined> {
    this.handle();
    const row = this.statements.get.get(name);
    return row && toRecord(row);
  }

  async listFunctions(): Promise<FunctionRecord[]> {
    this.handle();
    return this.statements.list.all().map(toRecord);
  }

  async putFunction(spec: FunctionSpec, build: BuildRef, now: number): Promise<FunctionRecord> {
    const db = this.handle();
    const put = db.transaction((): FunctionRecord => {
      const previous = this.statements.currentVersion.get(spec.name);
      const version = (previous?.current_version ?? 0) + 1;
      const createdAt = previous?.created_at ?? now;
      const row: RecordRow = { version, spec_json: JSON.stringify(spec), build_json: JSON.stringify(build), created_at: createdAt, updated_at: now };
      this.statements.upsertFunction.run(spec.name, version, createdAt, now);
      this.statements.insertVersion.run(spec.name, version, row.spec_json, row.build_json, now);
      // Built from the stored JSON, so it is a copy and exactly what getFunction will return.
      return toRecord(row);
    });
    // IMMEDIATE takes the write lock before reading the previous version, so two writers
    // (even in different processes) can never compute the same next version.
    return put.immediate();
  }

  async deleteFunction(name: string): Promise<boolean> {
    const db = this.handle();
    const remove = db.transaction((): boolean => {
      this.statements.deleteVersions.run(name);
      return this.statements.deleteFunction.run(name).changes > 0;
    });
    return remove.immediate();
  }

  async referencedBuilds(): Promise<Set<string>> {
    this.handle();
    return new Set(this.statements.buildIds.all().map((row) => row.build_id));
  }

  // --- API tokens and invoke keys (the SQL is in sqlite-auth.ts) ---

  async createToken(token: TokenRecord): Promise<void> {
    this.handle();
    this.auth.createToken(token);
  }

  async listTokens(): Promise<TokenRecord[]> {
    this.handle();
    return this.auth.listTokens();
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    this.handle();
    return this.auth.findTokenByHash(hash);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    this.handle();
    return this.auth.revokeToken(id, now);
  }

  async touchToken(id: string, now: number): Promise<void> {
    this.handle();
    this.auth.touchToken(id, now);
  }

  async createInvokeKey(key: InvokeKeyRecord): Promise<void> {
    this.handle();
    this.auth.createInvokeKey(key);
  }

  async listInvokeKeys(functionName: string): Promise<InvokeKeyRecord[]> {
    this.handle();
    return this.auth.listInvokeKeys(functionName);
  }

  async revokeInvokeKey(functionName: string, id: string, now: number): Promise<boolean> {
    this.handle();
    return this.auth.revokeInvokeKey(functionName, id, now);
  }

  // --- Secrets (the SQL is in sqlite-secrets.ts) ---

  async putSecret(name: string, sealed: Buffer, now: number): Promise<SecretRecord> {
    return this.secrets.put(name, sealed, now);
  }

  async getSecret(name: string): Promise<StoredSecret | undefined> {
    return this.secrets.get(name);
  }

  async listSecrets(): Promise<SecretRecord[]> {
    return this.secrets.list();
  }

  async deleteSecret(name: string): Promise<boolean> {
    return this.secrets.delete(name);
  }

  /** Closes the database; later calls fail with SHUTTING_DOWN. Closing twice is harmless. */
  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  private handle(): Database {
    if (!this.db) throw new NimbusError('SHUTTING_DOWN', 'The function store is closed because the platform is shutting down; retry against a running platform.');
    return this.db;
  }
}

function toRecord(row: RecordRow): FunctionRecord {
  return {
    spec: JSON.parse(row.spec_json) as FunctionSpec,
    version: row.version,
    build: JSON.parse(row.build_json) as BuildRef,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
