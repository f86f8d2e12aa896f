import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NimbusError } from '../core/errors.js';
import type { RuntimeName } from '../core/spec.js';
import { errorCode } from './fs-util.js';

/** A handler resolved against a package's files. */
export interface ResolvedHandler {
  runtime: RuntimeName;
  /** The handler as it goes into the function spec, e.g. `index.ts`, `index.handler`, `handler.handler`. */
  handler: string;
  /** Source file to load or bundle, relative to the package root. */
  entry: string;
  /** Export to call; undefined lets the node shim detect it (default export, else `handler`). */
  export: string | undefined;
}

/** Source extensions for node handlers, in the order they are tried. */
export const NODE_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'] as const;

/** True for a JS or TS source file name. */
export function isNodeSource(name: string): boolean {
  return NODE_EXTENSIONS.some((ext) => name.endsWith(ext)) && !name.endsWith('.d.ts');
}

/** True when `relative` names a regular file inside `tree` (links inside the package are followed). */
export async function isFile(tree: string, relative: string): Promise<boolean> {
  try {
    return (await stat(join(tree, relative))).isFile();
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') return false;
    throw err;
  }
}

/** Names of the regular files directly in `dir`, sorted. */
export async function filesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    if (dirent.isFile() || (dirent.isSymbolicLink() && (await isFile(dir, dirent.name)))) names.push(dirent.name);
  }
  return names.sort();
}

/**
 * Checks a handler path from the user: relative, inside the package, without `./`.
 * @throws HANDLER_NOT_FOUND for absolute paths and `..`.
 */
export function handlerPath(handler: string): string {
  const segments = handler.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (handler.startsWith('/') || segments.includes('..') || segments.length === 0) {
    throw handlerNotFound(`The handler ${JSON.stringify(handler)} must be a path inside the package, e.g. src/app.ts or index.handler.`);
  }
  return segments.join('/');
}

/** HANDLER_NOT_FOUND with `message`, which should say what was tried and what to pass. */
export function handlerNotFound(message: string): NimbusError {
  return new NimbusError('HANDLER_NOT_FOUND', message, { details: { field: 'handler' } });
}
