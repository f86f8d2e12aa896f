import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NimbusError } from '../core/errors.js';
import { filesIn, isNodeSource } from './handler-files.js';

/** How many of the package's telling files a message quotes. */
const QUOTED_FILES = 3;

/**
 * Refuses a package that has no source file at all for the runtime asked, and looks like the
 * other runtime: `--runtime python` on a folder with package.json and index.js, `--runtime node`
 * on one with only .py files. Without this, the user would read "no handler found" and look for
 * a typo in the handler instead of the runtime. `looksLike` is the runtime the files suggest
 * (see detectRuntime), undefined when they suggest none.
 *
 * @throws RUNTIME_MISMATCH naming the files that tell, and the runtime to deploy with.
 */
export async function checkRuntimeFits(tree: string, runtime: 'node' | 'python', looksLike: () => Promise<string | undefined>): Promise<void> {
  const isOwn = runtime === 'node' ? isNodeSource : isPython;
  if (await containsFile(tree, isOwn)) return;
  const other = await looksLike();
  if (other === undefined || other === runtime) return;
  const root = await filesIn(tree);
  const telling = root.filter(other === 'node' ? (name) => name === 'package.json' || isNodeSource(name) : isPython);
  const shown = telling.slice(0, QUOTED_FILES).join(', ') + (telling.length > QUOTED_FILES ? ', …' : '');
  const otherName = other === 'node' ? 'Node.js' : 'Python';
  const ownFiles = runtime === 'node' ? '.js or .ts' : '.py';
  throw new NimbusError(
    'RUNTIME_MISMATCH',
    `The runtime asked for is ${runtime}, but the package has no ${ownFiles} file and looks like ${otherName}${shown ? ` (${shown})` : ''}. ` +
      `Deploy it with --runtime ${other} ("runtime": "${other}"), or leave the runtime out: it is detected from the files.`,
    { details: { field: 'runtime' } },
  );
}

function isPython(name: string): boolean {
  return name.endsWith('.py');
}

/** True when a file matching `matches` is anywhere in `dir`, outside node_modules and hidden folders. */
export async function containsFile(dir: string, matches: (name: string) => boolean): Promise<boolean> {
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    if ((dirent.isFile() || dirent.isSymbolicLink()) && matches(dirent.name)) return true;
    // Dependencies are not the function's code; hidden folders (.git, .venv) are tooling.
    if (dirent.isDirectory() && dirent.name !== 'node_modules' && !dirent.name.startsWith('.')) {
      if (await containsFile(join(dir, dirent.name), matches)) return true;
    }
  }
  return false;
}
