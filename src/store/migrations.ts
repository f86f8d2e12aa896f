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
  // 4: async invocation records (src/store/invocation-types.ts). No foreign key to functions:
  // removing a function deletes its records explicitly (InvocationRepository.deleteFunction), and
  // the accept path must not pay a lookup per insert. The response is spread over four columns
  // (present when response_status is not NULL); headers and error are JSON, bodies are BLOBs.
  //
  // The list indexes end with (created_at, id), the listing's sort and cursor key, so a page is an
  // index range read backwards (newest first). They are ascending on purpose: new rows then land
  // at the end of their range, which dirties fewer pages per commit than DESC indexes do. Only one
  // index is partitioned by function: each such index costs up to a page per function per commit
  // on the accept path, so a function's whole listing merges its per-status ranges instead of
  // having an index of its own.
  `
  CREATE TABLE invocations (
    id                    TEXT    NOT NULL PRIMARY KEY,
    function              TEXT    NOT NULL,
    version               INTEGER,
    status                TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'dead')),
    attempts              INTEGER NOT NULL CHECK (attempts >= 0),
    created_at            INTEGER NOT NULL,
    started_at            INTEGER,
    finished_at           INTEGER,
    next_attempt_at       INTEGER,
    error_json            TEXT,
    response_status       INTEGER,
    response_headers_json TEXT,
    response_body         BLOB,
    response_truncated    INTEGER,
    method                TEXT    NOT NULL,
    path                  TEXT    NOT NULL,
    idempotency_key       TEXT,
    request               BLOB
  ) STRICT;
  CREATE INDEX invocations_by_created         ON invocations (created_at, id);
  CREATE INDEX invocations_by_status          ON invocations (status, created_at, id);
  -- Also: a function's dead letters, its counts by status, its removal.
  CREATE INDEX invocations_by_function_status ON invocations (function, status, created_at, id);
  CREATE INDEX invocations_by_idempotency_key ON invocations (function, idempotency_key, created_at, id)
    WHERE idempotency_key IS NOT NULL;
  -- Retention: ended records by age.
  CREATE INDEX invocations_by_end             ON invocations (status, finished_at);
  `,
  // 5: triggers (src/store/trigger-types.ts). A function's triggers go with it (ON DELETE CASCADE),
  // as its invoke keys do; a trigger's source state goes with the trigger. The status columns are
  // what the trigger's source last reported (the trigger manager writes them).
  `
  CREATE TABLE triggers (
    name          TEXT    NOT NULL PRIMARY KEY,
    function      TEXT    NOT NULL REFERENCES functions (name) ON DELETE CASCADE,
    type          TEXT    NOT NULL,
    settings_json TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('active', 'paused')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('starting', 'active', 'failing')),
    status_error  TEXT,
    status_since  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX triggers_by_function ON triggers (function);

  CREATE TABLE trigger_state (
    trigger    TEXT NOT NULL REFERENCES triggers (name) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value_json TEXT NOT NULL,
    PRIMARY KEY (trigger, key)
  ) STRICT;

  -- The trigger whose event an async invocation is (NULL for the others).
  ALTER TABLE invocations ADD COLUMN trigger TEXT;
  `,
  // 6: two index entries fewer for every accepted invocation (each secondary index cost about
  // 2 us per insert on the accept path, measured). The listing of every function and status now
  // merges the per-status ranges of invocations_by_status, as a function's listing already merges
  // its own, so (created_at, id) needs no index of its own. Retention only ranks ended records,
  // which always have finished_at (the runner sets it with the ending status): queued and running
  // ones no longer have an entry there, nor move in it when they end.
  `
  DROP INDEX invocations_by_created;
  DROP INDEX invocations_by_end;
  CREATE INDEX invocations_by_end ON invocations (status, finished_at) WHERE finished_at IS NOT NULL;
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
