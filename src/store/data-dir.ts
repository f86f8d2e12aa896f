import { chmod, mkdir, stat } from 'node:fs/promises';

/** Mode of the data dir and the folders in it: only the platform's user may enter them. */
export const PRIVATE_DIR_MODE = 0o700;

/** What {@link prepareDataDir} found. */
export interface DataDirState {
  /** The directory did not exist and was created (mode 0700). */
  created: boolean;
  /** Permission bits of an existing directory that lets other users in (e.g. 0o755), else undefined. */
  openToOthers: number | undefined;
}

/**
 * Creates the data dir with owner-only permissions, or checks an existing one. The store, the
 * packages and builds (every function's code), and the key and token files live there. An
 * existing directory is left as it is (its owner may share it on purpose) but reported, so the
 * operator is told to `chmod 700` it.
 */
export async function prepareDataDir(dataDir: string): Promise<DataDirState> {
  const existing = await stat(dataDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing) {
    const open = existing.mode & 0o077;
    return { created: false, openToOthers: existing.isDirectory() && open !== 0 ? existing.mode & 0o777 : undefined };
  }
  await mkdir(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // mkdir's mode is filtered by the umask; this one must hold whatever the umask is.
  await chmod(dataDir, PRIVATE_DIR_MODE);
  return { created: true, openToOthers: undefined };
}
