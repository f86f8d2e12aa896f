import type { Database } from 'better-sqlite3';

/**
 * Schema migrations for the embedded store, applied in order. `PRAGMA user_version` records how
 * many have run, so each runs exactly once per database file. Append only: never edit or reorder
 * a migration that has shipped, add a new one instead.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: functions and their version history. A deploy adds a row to function_versions and moves
  // functions.current_version; older versions stay for releases and rollback.
  `
  CREATE TABLE functions (
    name            TEXT    NOT NULL PRIMARY KEY,
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE function_versions (
    name       TEXT    NOT NULL REFERENCES functions (name),
    version    INTEGER NOT NULL,
    spec_json  TEXT    NOT NULL,
    build_json TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
  ) STRICT;
  `,
  // 2: access control. Only hashes of tokens and keys are stored; revoked ones stay for the record.
  // A function's invoke keys go with it (ON DELETE CASCADE).
  `
  CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'deploy', 'admin')),
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
  ) STRICT;

  CREATE TABLE invoke_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    function   TEXT    NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  ) STRICT;
  CREATE INDEX invoke_keys_by_function ON invoke_keys (function);
  `,
  // 3: secrets. `sealed` is the encrypted value (format in src/secrets/cipher.ts); the plaintext
  // is never stored.
  `
  CREATE TABLE secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    version    INTEGER NOT NULL,
    sealed     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  `,
];

/**
 * Brings the database schema up to date. Each migration and its version bump commit together,
 * so a crash mid-way leaves the schema at a known version.
 *
 * @throws Error when the file was written by a newer Nimbus with more migrations than this one knows.
 */
export function migrate(db: Database, migrations: readonly string[] = MIGRATIONS): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `The database schema is version ${current}, newer than this Nimbus understands (${migrations.length}). Upgrade Nimbus or use another data directory.`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] as string);
      // PRAGMA cannot take bound parameters; version is a loop integer, not input.
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
