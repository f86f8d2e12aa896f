import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { unsafeLink, walkSegments } from './entry-path.js';
import { errorCode } from './fs-util.js';

/** What a package tree holds. */
export interface TreeSummary {
  /** Regular files (each hard-linked name counts). */
  files: number;
  /** Total size of the regular files. */
  bytes: number;
  /** Symbolic links, as paths relative to the root. */
  symlinks: string[];
}

/** Walks a tree without following links and counts what is in it. */
export async function summariseTree(root: string): Promise<TreeSummary> {
  const summary: TreeSummary = { files: 0, bytes: 0, symlinks: [] };
  const walk = async (relative: string): Promise<void> => {
    for (const dirent of await readdir(join(root, relative), { withFileTypes: true })) {
      const path = relative === '' ? dirent.name : `${relative}/${dirent.name}`;
      if (dirent.isDirectory()) await walk(path);
      else if (dirent.isSymbolicLink()) summary.symlinks.push(path);
      else if (dirent.isFile()) {
        summary.files++;
        summary.bytes += (await lstat(join(root, path))).size;
      }
    }
  };
  await walk('');
  return summary;
}

/**
 * When the root holds nothing but one directory (an archive made with `tar czf fn.tgz myfn/`),
 * returns that directory, so the function's files sit at the package root; otherwise `root`.
 */
export async function packageRoot(root: string): Promise<string> {
  const entries = await readdir(root, { withFileTypes: true });
  const only = entries[0];
  return entries.length === 1 && only?.isDirectory() ? join(root, only.name) : root;
}

/** Links followed in a row before a chain counts as a loop (the kernel's limit is 40 too). */
const MAX_LINK_HOPS = 40;

/**
 * Checks that every symlink in the finished tree resolves inside it, following chains of
 * links the way the kernel will. The writer already checked each target on its own; this
 * catches combinations, e.g. `a -> .` plus `b -> a/..`, which is lexically inside but really
 * the parent of the package.
 *
 * @throws UNSAFE_ARCHIVE_LINK naming the first link that leaves the tree or loops.
 */
export async function assertLinksInside(root: string, symlinks: readonly string[]): Promise<void> {
  for (const link of symlinks) {
    const verdict = await resolveInside(root, link);
    if (verdict === 'outside') unsafeLink(link, 'is a link that, followed through other links, leads outside the package');
    if (verdict === 'loop') unsafeLink(link, 'is part of a link loop');
  }
}

async function resolveInside(root: string, link: string): Promise<'inside' | 'outside' | 'loop'> {
  const segments = link.split('/');
  // Walk from the link's directory, starting with the link itself, so its target is followed.
  const stack = segments.slice(0, -1);
  let pending = segments.slice(-1);
  let hops = 0;
  while (pending.length > 0) {
    const segment = pending.shift() as string;
    if (!walkSegments(stack, segment)) return 'outside';
    if (segment === '' || segment === '.' || segment === '..') continue;
    const target = await linkTarget(join(root, ...stack));
    if (target === undefined) continue;
    if (++hops > MAX_LINK_HOPS) return 'loop';
    if (target.startsWith('/')) return 'outside';
    stack.pop();
    pending = [...target.split('/'), ...pending];
  }
  return 'inside';
}

/** The target when `path` is a symlink; undefined for anything else, or nothing at all. */
async function linkTarget(path: string): Promise<string | undefined> {
  try {
    return (await lstat(path)).isSymbolicLink() ? await readlink(path) : undefined;
  } catch (err) {
    // A missing component: the kernel would stop here; carrying on lexically is stricter.
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
