import type { Statement } from 'better-sqlite3';
import type { SqliteHandle } from './sqlite-handle.js';
import type { SecretRecord, SecretRepository, StoredSecret } from './types.js';

interface SecretRow {
  name: string;
  version: number;
  sealed: Buffer;
  created_at: number;
  updated_at: number;
}

type MetaRow = Omit<SecretRow, 'sealed'>;

/** Secrets in SQLite: the `secrets` table (see migration 3), one row per secret, sealed value included. */
export class SqliteSecrets implements SecretRepository {
  private readonly statements: {
    get: Statement<[string], SecretRow>;
    list: Statement<[], MetaRow>;
    current: Statement<[string], { version: number; created_at: number }>;
    upsert: Statement<[string, number, Buffer, number, number]>;
    remove: Statement<[string]>;
  };

  constructor(private readonly handle: SqliteHandle) {
    const db = handle.get();
    this.statements = {
      get: db.prepare<[string], SecretRow>('SELECT name, version, sealed, created_at, updated_at FROM secrets WHERE name = ?'),
      list: db.prepare<[], MetaRow>('SELECT name, version, created_at, updated_at FROM secrets ORDER BY name'),
      current: db.prepare<[string], { version: number; created_at: number }>('SELECT version, created_at FROM secrets WHERE name = ?'),
      upsert: db.prepare<[string, number, Buffer, number, number]>(
        `INSERT INTO secrets (name, version, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, sealed = excluded.sealed, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare<[string]>('DELETE FROM secrets WHERE name = ?'),
    };
  }

  async putSecret(name: string, sealed: Buffer, now: number): Promise<SecretRecord> {
    const db = this.handle.get();
    const put = db.transaction((): SecretRecord => {
      const previous = this.statements.current.get(name);
      const record: SecretRecord = { name, version: (previous?.version ?? 0) + 1, createdAt: previous?.created_at ?? now, updatedAt: now };
      this.statements.upsert.run(name, record.version, sealed, record.createdAt, now);
      return record;
    });
    // IMMEDIATE: the write lock is taken before the previous version is read (see putFunction).
    return put.immediate();
  }

  async getSecret(name: string): Promise<StoredSecret | undefined> {
    this.handle.get();
    const row = this.statements.get.get(name);
    return row && { ...toRecord(row), sealed: Buffer.from(row.sealed) };
  }

  async listSecrets(): Promise<SecretRecord[]> {
    this.handle.get();
    return this.statements.list.all().map(toRecord);
  }

  async deleteSecret(name: string): Promise<boolean> {
    this.handle.get();
    return this.statements.remove.run(name).changes > 0;
  }
}

function toRecord(row: MetaRow): SecretRecord {
  return { name: row.name, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at };
}
