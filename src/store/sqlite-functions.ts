import type { Statement } from 'better-sqlite3';
import type { FunctionSpec } from '../core/spec.js';
import type { SqliteHandle } from './sqlite-handle.js';
import type { BuildRef, FunctionRecord, FunctionRepository, FunctionVersion } from './types.js';

interface RecordRow {
  version: number;
  spec_json: string;
  build_json: string;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  version: number;
  spec_json: string;
  build_json: string;
  created_at: number;
}

const SELECT_CURRENT = `
  SELECT v.version, v.spec_json, v.build_json, f.created_at, f.updated_at
  FROM functions f JOIN function_versions v ON v.name = f.name AND v.version = f.current_version`;

const SELECT_VERSION = 'SELECT version, spec_json, build_json, created_at FROM function_versions';

/**
 * Functions and their history in SQLite (tables from migration 1): `functions` points at the
 * current version, `function_versions` keeps every version until the function is removed.
 */
export class SqliteFunctions implements FunctionRepository {
  private readonly statements: {
    get: Statement<[string], RecordRow>;
    list: Statement<[], RecordRow>;
    version: Statement<[string, number], VersionRow>;
    versions: Statement<[string], VersionRow>;
    currentVersion: Statement<[string], { current_version: number; created_at: number }>;
    upsertFunction: Statement<[string, number, number, number]>;
    insertVersion: Statement<[string, number, string, string, number]>;
    deleteVersions: Statement<[string]>;
    deleteFunction: Statement<[string]>;
    buildIds: Statement<[], { build_id: string }>;
  };

  constructor(private readonly handle: SqliteHandle) {
    const db = handle.get();
    this.statements = {
      get: db.prepare<[string], RecordRow>(`${SELECT_CURRENT} WHERE f.name = ?`),
      list: db.prepare<[], RecordRow>(`${SELECT_CURRENT} ORDER BY f.name`),
      version: db.prepare<[string, number], VersionRow>(`${SELECT_VERSION} WHERE name = ? AND version = ?`),
      versions: db.prepare<[string], VersionRow>(`${SELECT_VERSION} WHERE name = ? ORDER BY version DESC`),
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
  }

  async getFunction(name: string): Promise<FunctionRecord | undefined> {
    this.handle.get();
    const row = this.statements.get.get(name);
    return row && toRecord(row);
  }

  async listFunctions(): Promise<FunctionRecord[]> {
    this.handle.get();
    return this.statements.list.all().map(toRecord);
  }

  async putFunction(spec: FunctionSpec, build: BuildRef, now: number): Promise<FunctionRecord> {
    const db = this.handle.get();
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
    const db = this.handle.get();
    const remove = db.transaction((): boolean => {
      this.statements.deleteVersions.run(name);
      return this.statements.deleteFunction.run(name).changes > 0;
    });
    return remove.immediate();
  }

  async getVersion(name: string, version: number): Promise<FunctionVersion | undefined> {
    this.handle.get();
    const row = this.statements.version.get(name, version);
    return row && toVersion(row);
  }

  async listVersions(name: string): Promise<FunctionVersion[]> {
    this.handle.get();
    return this.statements.versions.all(name).map(toVersion);
  }

  async referencedBuilds(): Promise<Set<string>> {
    this.handle.get();
    return new Set(this.statements.buildIds.all().map((row) => row.build_id));
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

function toVersion(row: VersionRow): FunctionVersion {
  return {
    spec: JSON.parse(row.spec_json) as FunctionSpec,
    version: row.version,
    build: JSON.parse(row.build_json) as BuildRef,
    deployedAt: row.created_at,
  };
}
