import type { Database } from 'better-sqlite3';
import { NimbusError } from '../core/errors.js';

/**
 * The one database connection the SQLite repositories share. Each repository asks for it on every
 * call, so once the store is closed every call fails with SHUTTING_DOWN instead of reaching a
 * closed connection.
 */
export class SqliteHandle {
  private db: Database | undefined;

  constructor(db: Database) {
    this.db = db;
  }

  /** The open database. @throws NimbusError SHUTTING_DOWN once closed. */
  get(): Database {
    if (!this.db) throw new NimbusError('SHUTTING_DOWN', 'The function store is closed because the platform is shutting down; retry against a running platform.');
    return this.db;
  }

  /** Closes the database; closing twice is harmless. */
  close(): void {
    this.db?.close();
    this.db = undefined;
  }
}
