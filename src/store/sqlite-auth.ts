import type { Statement } from 'better-sqlite3';
import { NimbusError } from '../core/errors.js';
import type { Scope } from '../core/scope.js';
import type { AuthRepository, InvokeKeyRecord, TokenRecord } from './auth-types.js';
import type { SqliteHandle } from './sqlite-handle.js';

interface TokenRow {
  id: string;
  name: string;
  scope: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

interface KeyRow {
  id: string;
  function: string;
  name: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

const TOKEN_COLUMNS = 'id, name, scope, hash, created_at, last_used_at, revoked_at';
const KEY_COLUMNS = 'id, function, name, hash, created_at, revoked_at';

/** API tokens and invoke keys in SQLite (tables from migration 2). */
export class SqliteAuth implements AuthRepository {
  private readonly insertToken: Statement<[string, string, string, string, number]>;
  private readonly allTokens: Statement<[], TokenRow>;
  private readonly tokenByHash: Statement<[string], TokenRow>;
  private readonly revokeTokenStmt: Statement<[number, string]>;
  private readonly tokenExists: Statement<[string], { id: string }>;
  private readonly touch: Statement<[number, string]>;
  private readonly functionExists: Statement<[string], { name: string }>;
  private readonly insertKey: Statement<[string, string, string, string, number]>;
  private readonly keysOf: Statement<[string], KeyRow>;
  private readonly revokeKeyStmt: Statement<[number, string, string]>;
  private readonly keyExists: Statement<[string, string], { id: string }>;

  constructor(private readonly handle: SqliteHandle) {
    const db = handle.get();
    this.insertToken = db.prepare('INSERT INTO api_tokens (id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)');
    this.allTokens = db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at, rowid`);
    this.tokenByHash = db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?`);
    this.revokeTokenStmt = db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.tokenExists = db.prepare<[string], { id: string }>('SELECT id FROM api_tokens WHERE id = ?');
    this.touch = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?');
    this.functionExists = db.prepare<[string], { name: string }>('SELECT name FROM functions WHERE name = ?');
    this.insertKey = db.prepare('INSERT INTO invoke_keys (id, function, name, hash, created_at) VALUES (?, ?, ?, ?, ?)');
    this.keysOf = db.prepare<[string], KeyRow>(`SELECT ${KEY_COLUMNS} FROM invoke_keys WHERE function = ? ORDER BY created_at, rowid`);
    this.revokeKeyStmt = db.prepare('UPDATE invoke_keys SET revoked_at = ? WHERE function = ? AND id = ? AND revoked_at IS NULL');
    this.keyExists = db.prepare<[string, string], { id: string }>('SELECT id FROM invoke_keys WHERE function = ? AND id = ?');
  }

  async createToken(token: TokenRecord): Promise<void> {
    this.handle.get();
    this.insertToken.run(token.id, token.name, token.scope, token.hash, token.createdAt);
  }

  async listTokens(): Promise<TokenRecord[]> {
    this.handle.get();
    return this.allTokens.all().map(toToken);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    this.handle.get();
    const row = this.tokenByHash.get(hash);
    return row && toToken(row);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return this.handle.get().transaction(() => this.revokeTokenStmt.run(now, id).changes > 0 || this.tokenExists.get(id) !== undefined).immediate();
  }

  async touchToken(id: string, now: number): Promise<void> {
    this.handle.get();
    this.touch.run(now, id);
  }

  async createInvokeKey(key: InvokeKeyRecord): Promise<void> {
    this.handle
      .get()
      .transaction(() => {
        if (!this.functionExists.get(key.function)) {
          throw new NimbusError('FUNCTION_NOT_FOUND', `No function named "${key.function}" is deployed.`);
        }
        this.insertKey.run(key.id, key.function, key.name, key.hash, key.createdAt);
      })
      .immediate();
  }

  async listInvokeKeys(functionName: string): Promise<InvokeKeyRecord[]> {
    this.handle.get();
    return this.keysOf.all(functionName).map(toKey);
  }

  async revokeInvokeKey(functionName: string, id: string, now: number): Promise<boolean> {
    return this.handle
      .get()
      .transaction(() => this.revokeKeyStmt.run(now, functionName, id).changes > 0 || this.keyExists.get(functionName, id) !== undefined)
      .immediate();
  }
}

function toToken(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as Scope,
    hash: row.hash,
    createdAt: row.created_at,
    ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}

function toKey(row: KeyRow): InvokeKeyRecord {
  return {
    id: row.id,
    function: row.function,
    name: row.name,
    hash: row.hash,
    createdAt: row.created_at,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}
