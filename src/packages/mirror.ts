import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from './fs-util.js';
import { DIR_MODE } from './tree-writer.js';

/** Errors after which a hard link cannot work but a copy can (other filesystem, no link support, link count). */
const NO_HARD_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * Recreates the tree `from` at `to` (which must not exist): directories are made, symlinks
 * recreated, and files hard-linked, which is instant and takes no space, or copied where hard
 * links are not possible. Nothing may ever write into a linked file: it is the package's own.
 */
export async function mirrorTree(from: string, to: string): Promise<void> {
  await mkdir(to);
  await chmod(to, DIR_MODE);
  await mirrorInto(from, to);
}

/** Like {@link mirrorTree}, into the existing, empty directory `to`. */
export async function mirrorInto(from: string, to: string): Promise<void> {
  for (const dirent of await readdir(from, { withFileTypes: true })) {
    const source = join(from, dirent.name);
    const target = join(to, dirent.name);
    if (dirent.isDirectory()) await mirrorTree(source, target);
    else if (dirent.isSymbolicLink()) await symlink(await readlink(source), target);
    else if (dirent.isFile()) await linkOrCopy(source, target);
  }
}

async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
  } catch (err) {
    if (!NO_HARD_LINK.has(errorCode(err) ?? '')) throw err;
    await copyFile(source, target);
    await chmod(target, (await lstat(source)).mode & 0o777);
  }
}
