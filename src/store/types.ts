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

/**
 * Function metadata storage, and API tokens and invoke keys ({@link AuthStore}). Implementations:
 * SQLite (embedded, `SqliteStore`), later Postgres. Every implementation passes
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
  close(): Promise<void>;
}
