import type { FunctionSpec } from '../core/spec.js';
import type { AuthRepository } from './auth-types.js';
import type { InvocationRepository } from './invocation-types.js';
import type { TriggerRepository } from './trigger-types.js';

/** Where a function version's runnable code lives, as produced by the builder. */
export interface BuildRef {
  /** Id of the build directory under `<data-dir>/builds/`. */
  buildId: string;
  /** File to load, relative to the build directory. */
  entry: string;
  /** The user's file `entry` was built from, when they differ (node: the bundle's source); named in load errors. */
  source?: string | undefined;
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

/** One deployed version of a function, as the version history keeps it. */
export interface FunctionVersion {
  spec: FunctionSpec;
  version: number;
  build: BuildRef;
  /** When this version was deployed (epoch milliseconds). */
  deployedAt: number;
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
 * Functions and their version history. Records are copies: changing one changes nothing stored.
 * Every implementation passes test/store/function-contract.ts.
 */
export interface FunctionRepository {
  /** The current version of the function; undefined when there is none. */
  getFunction(name: string): Promise<FunctionRecord | undefined>;
  /** All functions (their current versions), ordered by name. */
  listFunctions(): Promise<FunctionRecord[]>;
  /**
   * Creates the function or makes a new version current, atomically: the version number is the
   * previous one plus one (1 for a new name), and the previous version stays in the history.
   */
  putFunction(spec: FunctionSpec, build: BuildRef, now: number): Promise<FunctionRecord>;
  /** Removes the function, its history, its invoke keys and its triggers; false if there was none. */
  deleteFunction(name: string): Promise<boolean>;
  /** One version from the function's history (the current one included); undefined when unknown. */
  getVersion(name: string, version: number): Promise<FunctionVersion | undefined>;
  /** The function's version history, newest first; empty for an unknown function. */
  listVersions(name: string): Promise<FunctionVersion[]>;
  /** Build ids still referenced by any stored version (for garbage collection). */
  referencedBuilds(): Promise<Set<string>>;
}

/**
 * Secrets, sealed: the store never sees a value in the clear. Every implementation passes
 * test/store/secret-contract.ts.
 */
export interface SecretRepository {
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
}

/**
 * Every repository of one store, for the composition root only: each part is given just the
 * repository it needs. Implementations: SQLite (embedded, `SqliteStore`), later Postgres. After
 * `close`, every repository's calls reject with SHUTTING_DOWN.
 */
export interface Store {
  readonly functions: FunctionRepository;
  readonly secrets: SecretRepository;
  readonly auth: AuthRepository;
  /** Async invocation records (types in invocation-types.ts). */
  readonly invocations: InvocationRepository;
  /** Triggers, their status and their sources' state (types in trigger-types.ts). */
  readonly triggers: TriggerRepository;
  /**
   * Closes the store; closing twice is harmless. Calls made before it still complete: invocation
   * records whose `create` was called and has not resolved yet are stored first, never dropped.
   */
  close(): Promise<void>;
}
