import type { Readable } from 'node:stream';
import type { PackageInfo } from '../api/wire.js';
import type { ExecProtocol, RuntimeName } from '../core/spec.js';
import type { BuildRef } from '../store/types.js';

/** Limits applied to uploads before anything is written to the package store. */
export interface PackageLimits {
  /** Maximum upload size in bytes. @default 50 MB */
  maxCompressedBytes: number;
  /** Maximum total size of the unpacked files in bytes. @default 250 MB */
  maxUnpackedBytes: number;
  /** Maximum number of archive entries. @default 10000 */
  maxEntries: number;
}

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = {
  maxCompressedBytes: 50 * 1024 * 1024,
  maxUnpackedBytes: 250 * 1024 * 1024,
  maxEntries: 10_000,
};

/** A stored package: the unpacked, checked file tree of one upload, keyed by its sha256 (what the upload answers). */
export type { PackageInfo } from '../api/wire.js';

/** What an upload says about itself (from HTTP headers). */
export interface UploadHints {
  contentType?: string | undefined;
  /** For single-file uploads: the file's name, e.g. `handler.py` or `index.ts`. */
  filename?: string | undefined;
}

/** Package storage: uploads are checked, then stored once by content hash and never modified. */
export interface PackageRepository {
  /**
   * Streams an upload to disk while hashing it, checks it (format, paths, links, limits), and
   * stores its unpacked tree under its sha256. Nothing is left behind when a check fails.
   * Uploading the same bytes twice is cheap and returns the same info.
   */
  ingest(body: Readable, hints: UploadHints): Promise<PackageInfo>;
  /** True when the package exists. */
  has(sha256: string): Promise<boolean>;
  /** Absolute path of the package's unpacked tree. */
  treeDir(sha256: string): string;
}

/** The outcome of a build: the resolved runtime and handler, and the runnable code. */
/** What a build is asked for; everything not given is detected from the package. */
export interface BuildOptions {
  runtime?: RuntimeName | undefined;
  handler?: string | undefined;
  /** exec: the command line (else the manifest's). */
  command?: string | undefined;
  /** exec: how the program serves invocations (else the manifest's, else http). */
  protocol?: ExecProtocol | undefined;
}

export interface BuildResult {
  runtime: RuntimeName;
  handler: string;
  build: BuildRef;
}

/**
 * Turns a package into runnable code: detects the runtime and handler when not given, checks the
 * entry exists, bundles JS/TS with esbuild (node), and writes an immutable build directory.
 */
export interface Builder {
  build(sha256: string, options: BuildOptions): Promise<BuildResult>;
  /** Absolute path of a build directory. */
  buildDir(buildId: string): string;
}
