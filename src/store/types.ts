import type { FunctionSpec } from '../core/spec.js';
import type { AuthStore } from './auth-types.js';

/** Where a function version's runnable code lives, as produced by the builder. */
export interface BuildRef {
  /** Id of the build directory under `<data-dir>/builds/`. */
  buildId: string;
  /** File to load, relative to the build directory. */
  entry: string;
  /** Export to call (see InitRequest.export); undefined means detect. */
  export?: string | undefined;
}

/** A deployed function: its current version's settings and code. */
export interface FunctionRecord {
  spec: FunctionSpec;
  /** Starts at 1 and grows by one on every deploy of the same name. */
  version: number;
  build: BuildRef;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** A stored secret's metadata. The value is never part of it. */
export interface SecretRecord {
  name: string;
  /** Starts at 1 and grows by one each time the value is replaced. */
  version: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** A stored secret with its sealed (encrypted) value, as the store holds it. */
export interface StoredSecret extends SecretRecord {
  /** Opaque to the store: the value as sealed by the secrets cipher. */
  sealed: Buffer;
}

/**
 * Function metadata, secrets (sealed), and API tokens and invoke keys ({@link AuthStore}).
 * Implementations: SQLite (embedded, `SqliteStore`), later Postgres. Every implementation passes
 * test/store/store-contract.ts.
 */
export interface Store extends AuthStore {
  getFunction(name: string): Promise<FunctionRecord | undefined>;
  /** All functions, ordered by name. */
  listFunctions(): Promise<FunctionRecord[]>;
  /**
   * Creates the function or makes a new version current, atomically: the version number is the
   * previous one plus one (1 for a new name), and the previous version stays in the history.
   */
  putFunction(spec: FunctionSpec, build: BuildRef, now: number): Promise<FunctionRecord>;
  /** Removes the function, its history and its invoke keys; false if there was none. */
  deleteFunction(name: string): Promise<boolean>;
  /** Build ids still referenced by any stored version (for garbage collection). */
  referencedBuilds(): Promise<Set<string>>;
  /**
   * Creates the secret (version 1) or replaces its sealed value (next version, same createdAt),
   * atomically.
   */
  putSecret(name: string, sealed: Buffer, now: number): Promise<SecretRecord>;
  getSecret(name: string): Promise<StoredSecret | undefined>;
  /** Metadata of all secrets, ordered by name; never their values. */
  listSecrets(): Promise<SecretRecord[]>;
  /** Removes the secret; false if there was none. */
  deleteSecret(name: string): Promise<boolean>;
  close(): Promise<void>;
}
