import { lstat, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** True when something (of any type, links not followed) exists at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** The `code` of a Node.js system error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Creates a private work directory under `tmpRoot` (created if needed). Work happens there, on
 * the same filesystem as the final location, so publishing it is one atomic rename.
 */
export async function makeWorkDir(tmpRoot: string, prefix: string): Promise<string> {
  await mkdir(tmpRoot, { recursive: true, mode: 0o700 });
  return mkdtemp(join(tmpRoot, `${prefix}-`));
}

/** Removes a path and everything below it; missing is fine. */
export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 2 });
}

/**
 * Atomically moves the finished directory `from` to `to`. Content-addressed targets hold the
 * same content whoever wrote them, so when `to` already exists (an earlier or concurrent
 * publish won) `from` is simply dropped. Returns true when this call published it.
 */
export async function publishDir(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    await removeTree(from);
    return false;
  }
}
