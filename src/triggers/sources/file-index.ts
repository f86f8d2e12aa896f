import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { FileEventKind } from './file-settings.js';

/** What the file trigger remembers of one file: enough to tell a change. */
export interface FileEntry {
  size: number;
  /** Modification time, epoch milliseconds (fractional, as `fs.Stats.mtimeMs`). */
  mtimeMs: number;
}

/** Files by path relative to the watched directory (`/`-separated). Persisted in the trigger's state. */
export type FileIndex = Record<string, FileEntry>;

/** Key of the file index in the trigger's SourceState. */
export const FILE_INDEX_KEY = 'file-index';

/**
 * What is persisted: the files, and the directory and pattern they were recorded for. An index of
 * another directory or pattern (the trigger was updated) is not compared with: it is replaced by
 * a baseline, as at the trigger's first start.
 */
export interface StoredFileIndex {
  root: string;
  pattern: string | null;
  files: FileIndex;
}

/** Tells whether a relative path (`/`-separated) is one the trigger watches. */
export type PathFilter = (relativePath: string) => boolean;

/**
 * The change between what the index remembers of a file and what is on disk now, or undefined
 * when nothing changed. Pure.
 */
export function changeOf(remembered: FileEntry | undefined, current: FileEntry | undefined): FileEventKind | undefined {
  if (!remembered) return current ? 'created' : undefined;
  if (!current) return 'deleted';
  return remembered.size !== current.size || remembered.mtimeMs !== current.mtimeMs ? 'modified' : undefined;
}

/** The relative, `/`-separated form of a path under `root`. */
export function relativeTo(root: string, absolute: string): string {
  return path.relative(root, absolute).split(path.sep).join('/');
}

/**
 * The file at `relativePath` as the index would record it, or undefined when it is gone, is not a
 * regular file (directories, links, sockets are not watched) or does not pass the filter.
 */
export async function entryOf(root: string, relativePath: string, watched: PathFilter): Promise<FileEntry | undefined> {
  if (!watched(relativePath)) return undefined;
  try {
    const stats = await lstat(path.join(root, relativePath));
    return stats.isFile() ? { size: stats.size, mtimeMs: stats.mtimeMs } : undefined;
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

/**
 * Every watched regular file under `root`, at any depth; symbolic links are not followed (the
 * watcher does not follow them either). Throws when `root` itself cannot be read.
 */
export async function scanDirectory(root: string, watched: PathFilter): Promise<FileIndex> {
  const index: FileIndex = {};
  const walk = async (dir: string, isRoot: boolean): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // A sub-directory removed during the scan is no error; the root is the caller's concern.
      if (!isRoot && isGone(err)) return;
      throw err;
    }
    for (const entry of entries) {
      const absolute = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(absolute, false);
      else if (entry.isFile()) {
        const relative = relativeTo(root, absolute);
        const found = await entryOf(root, relative, watched);
        if (found) index[relative] = found;
      }
    }
  };
  await walk(root, true);
  return index;
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
