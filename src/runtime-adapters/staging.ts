import { chmodSync, cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeName } from '../core/spec.js';
import type { RuntimeAdapter } from './types.js';

/** Readable and traversable by everyone, writable by the platform only. */
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

/**
 * Copies each runtime's shim files into `targetDir/<runtime>` and answers adapters that read them
 * from there.
 *
 * Why: instances run as an unprivileged user that may not be able to walk the path Nimbus is
 * installed or cloned in (a checkout under `/root`, or any folder of mode 0700). The run directory
 * is the platform's own and open to that user for traversal, so a copy there is always reachable.
 * The shims are a few small files; copying them costs well under a millisecond per platform start.
 */
export function stageRuntimes<T extends Partial<Record<RuntimeName, RuntimeAdapter>>>(adapters: T, targetDir: string): T {
  mkdirSync(targetDir, { recursive: true, mode: DIR_MODE });
  chmodSync(targetDir, DIR_MODE);
  const staged: Partial<Record<RuntimeName, RuntimeAdapter>> = {};
  for (const [name, adapter] of Object.entries(adapters) as [RuntimeName, RuntimeAdapter][]) {
    const dir = join(targetDir, name);
    // Bytecode caches are never read (python -B), and a stale one must not shadow the source.
    cpSync(adapter.shimDir, dir, { recursive: true, filter: (source) => !source.endsWith('__pycache__') });
    openUp(dir);
    staged[name] = adapter.withShimDir(dir);
  }
  return staged as T;
}

/** Sets the modes under `dir` explicitly: the copy keeps the source's, which a umask may have narrowed. */
function openUp(dir: string): void {
  chmodSync(dir, DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) openUp(path);
    else chmodSync(path, FILE_MODE);
  }
}
