import { chmod, link, mkdir, open, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { NimbusError } from '../core/errors.js';
import { entrySegments, unsafeLink, walkSegments } from './entry-path.js';
import { errorCode } from './fs-util.js';
import { formatBytes } from './spool.js';
import type { PackageLimits } from './types.js';

/** Modes every package gets, whatever the archive says: no setuid/setgid/sticky, no group/other write. */
export const DIR_MODE = 0o755;
export const FILE_MODE = 0o644;
export const EXEC_MODE = 0o755;

/** An archive entry accepted by {@link TreeWriter.admit}: counted and with a checked path. */
export interface AdmittedEntry {
  /** The name as it appears in the archive, for messages. */
  readonly name: string;
  readonly segments: readonly string[];
}

type Node = { kind: 'dir' } | { kind: 'symlink' } | { kind: 'file'; size: number };

/**
 * Writes archive entries into a fresh directory, refusing anything unsafe instead of repairing
 * it: every path is checked, nothing is ever written through a link, links must stay inside,
 * and entry count and unpacked bytes (as actually written, not as declared) are limited.
 *
 * It records everything it creates, so it knows the tree exactly without asking the filesystem.
 */
export class TreeWriter {
  private readonly nodes = new Map<string, Node>([['', { kind: 'dir' }]]);
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly root: string,
    private readonly limits: Pick<PackageLimits, 'maxEntries' | 'maxUnpackedBytes'>,
  ) {}

  /**
   * Counts an entry and checks its path. Synchronous, so archive readers can refuse a hostile
   * archive before queueing any work for it.
   *
   * @throws ARCHIVE_TOO_MANY_ENTRIES, UNSAFE_ARCHIVE_PATH
   */
  admit(name: string): AdmittedEntry {
    this.entries++;
    if (this.entries > this.limits.maxEntries) throw tooManyEntries(this.limits.maxEntries);
    return { name, segments: entrySegments(name) };
  }

  /** Creates a directory (again is fine: archives often list a directory after its files). */
  async directory(entry: AdmittedEntry): Promise<void> {
    if (entry.segments.length === 0) return;
    if (this.nodes.get(key(entry.segments))?.kind === 'dir') return;
    await this.prepare(entry);
    await this.mkdir(entry.segments);
  }

  /**
   * Writes a regular file from `data`, counting its bytes as they arrive.
   *
   * @param mode the archive's permission bits; only "executable or not" is kept.
   * @param declaredSize the size the archive claims, checked up front so an honest oversized
   *   archive fails before any decompression; a lying one still fails on the bytes written.
   */
  async file(entry: AdmittedEntry, mode: number | undefined, data: AsyncIterable<Uint8Array>, declaredSize?: number): Promise<void> {
    if (declaredSize !== undefined) this.account(declaredSize, false);
    const path = await this.prepare(entry);
    let size = 0;
    // 'wx' fails on anything already there, including a dangling symlink: never follow one.
    const handle = await open(path, 'wx', FILE_MODE).catch((err: unknown) => rethrow(err, entry));
    try {
      for await (const chunk of data) {
        this.account(chunk.length, true);
        size += chunk.length;
        // writeFile writes the whole chunk at the current position (write() may write less).
        await handle.writeFile(chunk);
      }
      await handle.chmod((mode ?? 0) & 0o111 ? EXEC_MODE : FILE_MODE);
    } finally {
      await handle.close();
    }
    this.nodes.set(key(entry.segments), { kind: 'file', size });
  }

  /** Creates a symbolic link, if its target stays inside the package. */
  async symlink(entry: AdmittedEntry, target: string): Promise<void> {
    if (target === '' || target.includes('\0')) unsafeLink(entry.name, 'is a link with an empty or invalid target');
    if (target.startsWith('/')) unsafeLink(entry.name, `is a link to the absolute path ${JSON.stringify(target)}`);
    if (!walkSegments(entry.segments.slice(0, -1), target)) {
      unsafeLink(entry.name, `is a link to ${JSON.stringify(target)}, outside the package`);
    }
    const path = await this.prepare(entry);
    await symlink(target, path).catch((err: unknown) => rethrow(err, entry));
    this.nodes.set(key(entry.segments), { kind: 'symlink' });
  }

  /** Creates a hard link to a regular file written earlier from the same archive. */
  async hardlink(entry: AdmittedEntry, target: string): Promise<void> {
    let targetSegments: string[];
    try {
      targetSegments = entrySegments(target);
    } catch {
      return unsafeLink(entry.name, `is a hard link to ${JSON.stringify(target)}, outside the package`);
    }
    const node = this.nodes.get(key(targetSegments));
    if (node?.kind !== 'file') {
      unsafeLink(entry.name, `is a hard link to ${JSON.stringify(target)}, which is not a regular file earlier in the archive`);
    }
    // A hard link adds no bytes on disk, but counts like the copy it stands for.
    this.account(node.size, true);
    const path = await this.prepare(entry);
    await link(join(this.root, ...targetSegments), path).catch((err: unknown) => rethrow(err, entry));
    this.nodes.set(key(entry.segments), { kind: 'file', size: node.size });
  }

  /** Checks the entry's place in the tree and creates missing parent directories; returns its path. */
  private async prepare(entry: AdmittedEntry): Promise<string> {
    const { segments, name } = entry;
    if (segments.length === 0) {
      throw new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(name)} is not a directory but names the package root.`);
    }
    if (this.nodes.has(key(segments))) {
      throw new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(name)} appears more than once; repack the folder so each path appears once.`, {
        details: { entry: name },
      });
    }
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth);
      const node = this.nodes.get(key(parent));
      if (node === undefined) await this.mkdir(parent);
      else if (node.kind === 'symlink') unsafeLink(name, `would be written through the link ${key(parent)}`);
      else if (node.kind === 'file') {
        throw new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(name)} is inside ${key(parent)}, which is a file, not a directory.`, {
          details: { entry: name },
        });
      }
    }
    return join(this.root, ...segments);
  }

  private async mkdir(segments: readonly string[]): Promise<void> {
    const path = join(this.root, ...segments);
    await mkdir(path).catch((err: unknown) => rethrow(err, { name: key(segments) }));
    // Set explicitly: mkdir's mode is filtered by the process umask.
    await chmod(path, DIR_MODE);
    this.nodes.set(key(segments), { kind: 'dir' });
  }

  private account(bytes: number, written: boolean): void {
    const total = this.bytes + bytes;
    if (total > this.limits.maxUnpackedBytes) {
      throw new NimbusError(
        'ARCHIVE_TOO_LARGE',
        `The package unpacks to more than the ${formatBytes(this.limits.maxUnpackedBytes)} limit. Leave files the function does not need out of it (tests, docs, dev dependencies: \`npm install --omit=dev\`).`,
        { details: { limitBytes: this.limits.maxUnpackedBytes } },
      );
    }
    if (written) this.bytes = total;
  }
}

/** The error for an archive with more than `limit` entries. */
export function tooManyEntries(limit: number): NimbusError {
  return new NimbusError(
    'ARCHIVE_TOO_MANY_ENTRIES',
    `The archive has more than ${limit} entries. Leave files the function does not need out of the package (tests, docs, dev dependencies: \`npm install --omit=dev\`).`,
    { details: { limit } },
  );
}

function key(segments: readonly string[]): string {
  return segments.join('/');
}

/** Turns a filesystem error caused by the archive's content into INVALID_ARCHIVE; others pass. */
function rethrow(err: unknown, entry: { name: string }): never {
  const code = errorCode(err);
  if (code === 'ENAMETOOLONG' || code === 'EINVAL' || code === 'EILSEQ') {
    throw new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(entry.name.slice(0, 200))} has a name this system cannot store (${code}); shorten or rename it.`, {
      cause: err,
      details: { entry: entry.name },
    });
  }
  throw err;
}
