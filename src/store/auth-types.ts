import type { Scope } from '../core/scope.js';

/** A management API token as stored: never its value, only the value's sha256. */
export interface TokenRecord {
  /** Public id, e.g. `tok_3f9a0c1d2b4e`. */
  id: string;
  /** What it is for, chosen by whoever created it (e.g. `ci`). */
  name: string;
  scope: Scope;
  /** Hex sha256 of the token value. */
  hash: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Last successful use (updated at most once a minute); undefined when never used. */
  lastUsedAt?: number | undefined;
  /** When it was revoked; undefined while it is valid. */
  revokedAt?: number | undefined;
}

/** An invoke key of one function, as stored: only the key's sha256. */
export interface InvokeKeyRecord {
  /** Public id, e.g. `key_3f9a0c1d2b4e`. */
  id: string;
  /** The function it opens. */
  function: string;
  name: string;
  /** Hex sha256 of the key. */
  hash: string;
  createdAt: number;
  revokedAt?: number | undefined;
}

/** Management API tokens. Records are copies: changing one changes nothing stored. */
export interface TokenRepository {
  /** Stores a new token; its id and hash must be new. */
  createToken(token: TokenRecord): Promise<void>;
  /** All tokens, revoked ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** The token with this hash, revoked or not. */
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  /** Marks a token revoked; false when there is no such token (revoking twice keeps the first time). */
  revokeToken(id: string, now: number): Promise<boolean>;
  /** Records a use of the token. */
  touchToken(id: string, now: number): Promise<void>;
}

/** Invoke keys of functions. Records are copies: changing one changes nothing stored. */
export interface InvokeKeyRepository {
  /**
   * Stores a new invoke key.
   * @throws NimbusError FUNCTION_NOT_FOUND when its function does not exist.
   */
  createInvokeKey(key: InvokeKeyRecord): Promise<void>;
  /** The function's keys, revoked ones included, oldest first. Removing the function removes them. */
  listInvokeKeys(functionName: string): Promise<InvokeKeyRecord[]>;
  /** Marks a key of this function revoked; false when the function has no such key. */
  revokeInvokeKey(functionName: string, id: string, now: number): Promise<boolean>;
}

/**
 * Access control's storage: API tokens and invoke keys (one repository, since keys live and die
 * with functions of the same store). Consumers take the half they use. Every implementation passes
 * test/store/auth-contract.ts.
 */
export interface AuthRepository extends TokenRepository, InvokeKeyRepository {}
