import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { create } from 'tar';

/** Folder names never packed, at any depth: version control and the local platform's data. */
export const SKIPPED_NAMES: ReadonlySet<string> = new Set(['.git', '.nimbus']);

/** Every entry gets this mtime, so packing the same files twice gives the same bytes (and hash). */
const FIXED_MTIME = new Date('2000-01-01T00:00:00.000Z');

export interface PackedFolder {
  /** The tar.gz archive. */
  bytes: Buffer;
  /** Regular files packed. */
  files: number;
  /** Sum of the packed files' sizes. */
  unpackedBytes: number;
  /** Archive entries in order (folders end with `/`). */
  entries: string[];
}

/**
 * Lists what a folder's package holds, relative to it, sorted so archives are reproducible.
 * Follows no symbolic links (they are packed as links; the platform refuses ones that leave the
 * package), skips `.git`/`.nimbus` and special files (sockets, fifos, devices).
 */
export async function listPackageEntries(root: string): Promise<{ entries: string[]; files: number; unpackedBytes: number }> {
  const entries: string[] = [];
  let files = 0;
  let unpackedBytes = 0;
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      if (SKIPPED_NAMES.has(name)) continue;
      const path = rel ? `${rel}/${name}` : name;
      const stat = await lstat(join(root, path));
      if (stat.isDirectory()) {
        entries.push(`${path}/`);
        await walk(path);
      } else if (stat.isFile()) {
        entries.push(path);
        files++;
        unpackedBytes += stat.size;
      } else if (stat.isSymbolicLink()) {
        entries.push(path);
      }
    }
  };
  await walk('');
  return { entries, files, unpackedBytes };
}

/**
 * Packs a folder as tar.gz for upload: entries relative to the folder, portable headers (no
 * owner, no host-specific metadata), node_modules included, `.git` and `.nimbus` left out.
 */
export async function packFolder(root: string): Promise<PackedFolder> {
  const listing = await listPackageEntries(root);
  if (listing.entries.length === 0) {
    throw new Error(`Nothing to deploy: ${root} is empty (.git and .nimbus are not packed).`);
  }
  const stream = create(
    { gzip: true, cwd: root, portable: true, noDirRecurse: true, mtime: FIXED_MTIME, strict: true },
    listing.entries.map((e) => (e.endsWith('/') ? e.slice(0, -1) : e)),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return { bytes: Buffer.concat(chunks), ...listing };
}
