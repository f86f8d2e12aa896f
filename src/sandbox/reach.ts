import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/** A directory that a user cannot pass through. */
export interface BlockedDirectory {
  dir: string;
  /** Its permission bits, e.g. 0o700. */
  mode: number;
}

/**
 * The first directory on the way to `path` that the user `uid` (primary group `gid`) may not
 * enter, or undefined when every one lets it through. Supplementary groups are not considered:
 * the sandbox user has none.
 */
export function blockedDirectoryOnPath(path: string, uid: number, gid: number): BlockedDirectory | undefined {
  if (uid === 0) return undefined;
  const dirs: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) break;
  }
  for (const dir of dirs) {
    let stat;
    try {
      stat = statSync(dir);
    } catch {
      return undefined; // missing: a different problem, reported by whoever starts the runtime
    }
    const mode = stat.mode & 0o777;
    const searchBit = stat.uid === uid ? 0o100 : stat.gid === gid ? 0o010 : 0o001;
    if ((mode & searchBit) === 0) return { dir, mode };
  }
  return undefined;
}
