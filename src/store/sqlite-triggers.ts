import type { Statement } from 'better-sqlite3';
import { NimbusError } from '../core/errors.js';
import type { SqliteHandle } from './sqlite-handle.js';
import type { TriggerDefinition, TriggerRecord, TriggerRepository, TriggerStatus } from './trigger-types.js';

interface TriggerRow {
  name: string;
  function: string;
  type: string;
  settings_json: string;
  state: string;
  created_at: number;
  updated_at: number;
  status: string;
  status_error: string | null;
  status_since: number;
}

type InsertArgs = [string, string, string, string, string, number, number, number];

const COLUMNS = 'name, function, type, settings_json, state, created_at, updated_at, status, status_error, status_since';

/** Triggers in SQLite: the `triggers` and `trigger_state` tables (migration 5). */
export class SqliteTriggers implements TriggerRepository {
  private readonly statements: {
    get: Statement<[string], TriggerRow>;
    list: Statement<[], TriggerRow>;
    listOf: Statement<[string], TriggerRow>;
    functionExists: Statement<[string], { name: string }>;
    insert: Statement<InsertArgs>;
    update: Statement<[string, string, string, string, number, number, string]>;
    remove: Statement<[string]>;
    clearState: Statement<[string]>;
    setStatus: Statement<[string, string | null, number, string]>;
    getState: Statement<[string, string], { value_json: string }>;
    setState: Statement<[string, string, string]>;
  };

  constructor(private readonly handle: SqliteHandle) {
    const db = handle.get();
    this.statements = {
      get: db.prepare<[string], TriggerRow>(`SELECT ${COLUMNS} FROM triggers WHERE name = ?`),
      list: db.prepare<[], TriggerRow>(`SELECT ${COLUMNS} FROM triggers ORDER BY name`),
      listOf: db.prepare<[string], TriggerRow>(`SELECT ${COLUMNS} FROM triggers WHERE function = ? ORDER BY name`),
      functionExists: db.prepare<[string], { name: string }>('SELECT name FROM functions WHERE name = ?'),
      insert: db.prepare<InsertArgs>(
        `INSERT INTO triggers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 'starting', NULL, ?) ON CONFLICT (name) DO NOTHING`,
      ),
      update: db.prepare<[string, string, string, string, number, number, string]>(
        `UPDATE triggers SET function = ?, type = ?, settings_json = ?, state = ?, updated_at = ?,
           status = 'starting', status_error = NULL, status_since = ? WHERE name = ?`,
      ),
      remove: db.prepare<[string]>('DELETE FROM triggers WHERE name = ?'),
      clearState: db.prepare<[string]>('DELETE FROM trigger_state WHERE trigger = ?'),
      setStatus: db.prepare<[string, string | null, number, string]>('UPDATE triggers SET status = ?, status_error = ?, status_since = ? WHERE name = ?'),
      getState: db.prepare<[string, string], { value_json: string }>('SELECT value_json FROM trigger_state WHERE trigger = ? AND key = ?'),
      // Through a SELECT: a trigger removed meanwhile stores nothing (instead of breaking the foreign key).
      setState: db.prepare<[string, string, string]>(
        `INSERT INTO trigger_state (trigger, key, value_json) SELECT name, ?, ? FROM triggers WHERE name = ?
         ON CONFLICT (trigger, key) DO UPDATE SET value_json = excluded.value_json`,
      ),
    };
  }

  async createTrigger(definition: TriggerDefinition, now: number): Promise<TriggerRecord | undefined> {
    const db = this.handle.get();
    return db
      .transaction((): TriggerRecord | undefined => {
        this.requireFunction(definition.function);
        const { changes } = this.statements.insert.run(...insertArgs(definition, now));
        return changes === 0 ? undefined : toRecord(this.statements.get.get(definition.name) as TriggerRow);
      })
      .immediate();
  }

  async putTrigger(definition: TriggerDefinition, now: number): Promise<{ record: TriggerRecord; created: boolean }> {
    const db = this.handle.get();
    return db
      .transaction(() => {
        this.requireFunction(definition.function);
        const previous = this.statements.get.get(definition.name);
        if (!previous) {
          this.statements.insert.run(...insertArgs(definition, now));
        } else {
          if (previous.type !== definition.type) this.statements.clearState.run(definition.name);
          const { function: fn, type, settings, state } = definition;
          this.statements.update.run(fn, type, JSON.stringify(settings), state, now, now, definition.name);
        }
        return { record: toRecord(this.statements.get.get(definition.name) as TriggerRow), created: !previous };
      })
      .immediate();
  }

  async getTrigger(name: string): Promise<TriggerRecord | undefined> {
    this.handle.get();
    const row = this.statements.get.get(name);
    return row && toRecord(row);
  }

  async listTriggers(filter: { function?: string } = {}): Promise<TriggerRecord[]> {
    this.handle.get();
    const rows = filter.function === undefined ? this.statements.list.all() : this.statements.listOf.all(filter.function);
    return rows.map(toRecord);
  }

  async deleteTrigger(name: string): Promise<boolean> {
    this.handle.get();
    return this.statements.remove.run(name).changes > 0;
  }

  async setStatus(name: string, status: TriggerStatus): Promise<boolean> {
    this.handle.get();
    return this.statements.setStatus.run(status.state, status.error ?? null, status.since, name).changes > 0;
  }

  async getState(name: string, key: string): Promise<unknown> {
    this.handle.get();
    const row = this.statements.getState.get(name, key);
    return row === undefined ? undefined : (JSON.parse(row.value_json) as unknown);
  }

  async setState(name: string, key: string, value: unknown): Promise<boolean> {
    this.handle.get();
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`trigger state ${key}: the value has no JSON form`);
    return this.statements.setState.run(key, json, name).changes > 0;
  }

  private requireFunction(name: string): void {
    if (!this.statements.functionExists.get(name)) {
      throw new NimbusError('FUNCTION_NOT_FOUND', `No function named "${name}" is deployed. See the list with: nimbus ls`, { details: { field: 'function' } });
    }
  }
}

function insertArgs(definition: TriggerDefinition, now: number): InsertArgs {
  return [definition.name, definition.function, definition.type, JSON.stringify(definition.settings), definition.state, now, now, now];
}

function toRecord(row: TriggerRow): TriggerRecord {
  const status: TriggerStatus = { state: row.status === 'failing' || row.status === 'starting' ? row.status : 'active', since: row.status_since };
  if (row.status_error !== null) status.error = row.status_error;
  return {
    name: row.name,
    function: row.function,
    type: row.type,
    settings: JSON.parse(row.settings_json) as unknown,
    state: row.state === 'paused' ? 'paused' : 'active',
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    status,
  };
}
