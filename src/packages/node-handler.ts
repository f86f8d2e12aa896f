import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { filesIn, handlerNotFound, handlerPath, isFile, isNodeSource, NODE_EXTENSIONS, type ResolvedHandler } from './handler-files.js';

/** A JavaScript identifier: what may follow the last `.` of a Lambda-style handler. */
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Resolves a node handler against the package in `tree`.
 *
 * Given a handler: an existing source file, with or without its extension (`src/app.ts`,
 * `src/app`) is the entry and the shim detects the export; otherwise `path/file.name`, where
 * `path/file` is a source file and `name` an identifier, is Lambda style, calling export `name`.
 * Not given: package.json `main` when that file exists, else `index.*`, else the only JS/TS file
 * at the root.
 *
 * @throws HANDLER_NOT_FOUND naming what was tried.
 */
export async function resolveNodeHandler(tree: string, handler: string | undefined): Promise<ResolvedHandler> {
  const tried: string[] = [];
  if (handler !== undefined) {
    const path = handlerPath(handler);
    const file = await findSource(tree, path, tried);
    if (file) return { runtime: 'node', handler: file, entry: file, export: undefined };
    const dot = path.lastIndexOf('.');
    const name = path.slice(dot + 1);
    // `index.js` names a file, not export `js` of index.*: only non-source names can be Lambda style.
    if (!isNodeSource(path) && dot > path.lastIndexOf('/') + 1 && IDENTIFIER.test(name)) {
      const base = path.slice(0, dot);
      const lambdaFile = await findSource(tree, base, tried);
      if (lambdaFile) return { runtime: 'node', handler: `${base}.${name}`, entry: lambdaFile, export: name };
    }
    throw handlerNotFound(
      `No source file for the handler ${JSON.stringify(handler)} in the package (tried ${tried.join(', ')}). Give a file path such as src/app.ts, or file.export such as index.handler for a Lambda-style handler.`,
    );
  }

  const main = await packageMain(tree);
  if (main !== undefined) {
    const file = (await findSource(tree, main, tried)) ?? (await findSource(tree, `${main}/index`, tried));
    if (file) return { runtime: 'node', handler: file, entry: file, export: undefined };
  }
  const index = await findSource(tree, 'index', tried);
  if (index) return { runtime: 'node', handler: index, entry: index, export: undefined };
  const sources = (await filesIn(tree)).filter(isNodeSource);
  if (sources.length === 1 && sources[0] !== undefined) {
    return { runtime: 'node', handler: sources[0], entry: sources[0], export: undefined };
  }
  const mainNote = main === undefined ? 'package.json "main"' : `package.json "main" (${main}: no such file)`;
  const found = sources.length > 1 ? `several JS/TS files at the root (${sources.slice(0, 5).join(', ')})` : 'no JS/TS file at the root';
  throw handlerNotFound(
    `No handler given and none found: looked for ${mainNote} and index${NODE_EXTENSIONS.join('/')}, and found ${found}. Pass the handler, e.g. --handler src/app.ts, or --handler index.handler for a Lambda-style export.`,
  );
}

/** The source file `path` names, as is or with a source extension added; records what it tried. */
async function findSource(tree: string, path: string, tried: string[]): Promise<string | undefined> {
  const candidates = isNodeSource(path) ? [path] : NODE_EXTENSIONS.map((ext) => `${path}${ext}`);
  for (const candidate of candidates) {
    tried.push(candidate);
    if (await isFile(tree, candidate)) return candidate;
  }
  return undefined;
}

/** package.json `main`, normalised, if there is one and it stays inside the package. */
async function packageMain(tree: string): Promise<string | undefined> {
  if (!(await isFile(tree, 'package.json'))) return undefined;
  let main: unknown;
  try {
    main = (JSON.parse(await readFile(join(tree, 'package.json'), 'utf8')) as { main?: unknown }).main;
  } catch {
    // A broken package.json will fail the bundle with a clear esbuild message if it matters.
    return undefined;
  }
  if (typeof main !== 'string') return undefined;
  try {
    return handlerPath(main);
  } catch {
    return undefined;
  }
}
