import { mkdtempSync, writeFileSync } from 'node:fs';
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../sandbox/process-alive.js';

/** Run directories are `<tmp>/nimbus-XXXXXX`: short, because socket paths are limited (~107 bytes). */
const RUN_DIR_PREFIX = 'nimbus-';
/** Names the platform process that owns a run directory, so a later start can tell it died. */
export const RUN_DIR_PID_FILE = 'platform.pid';

/**
 * Creates this platform's run directory (instance sockets and code) under `parent` and records
 * the platform's pid in it. Created 0700 by mkdtemp; the sandbox makes it traversable (0711) for
 * the instances' uid when it needs to. The pid file is owner-only: nobody else needs it.
 */
export function createRunDir(parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, RUN_DIR_PREFIX));
  writeFileSync(join(dir, RUN_DIR_PID_FILE), `${process.pid}\n`, { mode: 0o600 });
  return dir;
}

/**
 * Removes the run directories that platforms which no longer run left under `parent` (a
 * `kill -9` skips the clean-up), as is done for their cgroups. Only directories this user owns,
 * that are not links, and whose pid file names a process that is gone are touched; a directory
 * without a pid file may belong to anything else named `nimbus-*` (an older platform, another
 * program) and is left alone. A reused pid keeps a directory until that process ends: the safe
 * direction. Returns the directories removed.
 */
export async function removeStaleRunDirs(parent: string = tmpdir(), isAlive: (pid: number) => boolean = processAlive): Promise<string[]> {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of await readdir(parent).catch(() => [])) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(parent, name);
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
    const pid = await ownerPid(dir);
    if (pid === undefined || pid === process.pid || isAlive(pid)) continue;
    await rm(dir, { recursive: true, force: true, maxRetries: 2 }).then(
      () => removed.push(dir),
      () => undefined, // e.g. a busy mount; the next start tries again
    );
  }
  return removed;
}

/** The pid recorded in a run directory, or undefined when there is no valid pid file. */
async function ownerPid(dir: string): Promise<number | undefined> {
  const file = join(dir, RUN_DIR_PID_FILE);
  const info = await lstat(file).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
