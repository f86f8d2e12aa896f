import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import { migrate } from './migrations.js';
import { SqliteAuth } from './sqlite-auth.js';
import { SqliteFunctions } from './sqlite-functions.js';
import { SqliteHandle } from './sqlite-handle.js';
import { SqliteInvocations } from './sqlite-invocations.js';
import { SqliteSecrets } from './sqlite-secrets.js';
import { SqliteTriggers } from './sqlite-triggers.js';
import type { Store } from './types.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/** File name of the embedded database inside the data directory. */
export const DB_FILE = 'nimbus.db';

/** Milliseconds a writer waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /**
   * Checkpoint the WAL on a thread of its own, ticking on this clock (wal-checkpointer.ts), instead
   * of inside the commits of the event loop. The platform does; a short-lived store need not.
   */
  checkpointOffLoop?: { clock: Clock; onError(message: string): void };
}

/**
 * The embedded store: one SQLite file (`<dataDir>/nimbus.db`) in WAL mode, one repository class
 * per kind of data (sqlite-functions.ts, sqlite-secrets.ts, sqlite-auth.ts, sqlite-invocations.ts,
 * sqlite-triggers.ts),
 * all on one connection.
 *
 * better-sqlite3 is synchronous, so every call completes before the next starts within one
 * process; writes use `BEGIN IMMEDIATE` so separate processes sharing the file serialise too.
 */
export class SqliteStore implements Store {
  readonly functions: SqliteFunctions;
  readonly secrets: SqliteSecrets;
  readonly auth: SqliteAuth;
  readonly invocations: SqliteInvocations;
  readonly triggers: SqliteTriggers;

  private constructor(
    private readonly handle: SqliteHandle,
    private readonly checkpointer: WalCheckpointer | undefined,
  ) {
    this.functions = new SqliteFunctions(handle);
    this.secrets = new SqliteSecrets(handle);
    this.auth = new SqliteAuth(handle);
    this.invocations = new SqliteInvocations(handle);
    this.triggers = new SqliteTriggers(handle);
  }

  /** Opens (creating if needed) the store in `dataDir` and brings its schema up to date. */
  static async open(dataDir: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
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
      const { checkpointOffLoop: off } = options;
      return new SqliteStore(new SqliteHandle(db), off && new WalCheckpointer(db, join(dataDir, DB_FILE), off.clock, off.onError));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Closes the database; later calls fail with SHUTTING_DOWN. Closing twice is harmless. Invocation
   * records still waiting for their group commit are committed first: their callers were promised
   * a stored record.
   */
  async close(): Promise<void> {
    this.invocations.flush();
    await this.checkpointer?.close();
    this.handle.close();
  }
}
