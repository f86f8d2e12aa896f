import { isNimbusError, NimbusError } from '../core/errors.js';
import type { ExecProtocol, RuntimeName } from '../core/spec.js';
import { MANIFEST_FILE, readManifest, resolveExecHandler } from './exec-handler.js';
import { filesIn, isNodeSource, type ResolvedHandler } from './handler-files.js';
import { resolveNodeHandler } from './node-handler.js';
import { resolvePythonHandler } from './python-handler.js';
import { checkRuntimeFits, containsFile } from './runtime-fit.js';

/** Files that make a package python even next to JS files. */
const PYTHON_MARKERS = ['handler.py', 'main.py', 'lambda_function.py'];

/**
 * Decides the runtime and handler of the package in `tree`, using what the user gave.
 * A runtime given for a package that has none of its files and looks like the other one is
 * refused (see {@link checkRuntimeFits}). Without a runtime: a given handler that resolves for node (then python) decides it; otherwise
 * the files do (see {@link detectRuntime}).
 *
 * @throws RUNTIME_NOT_DETECTED, RUNTIME_MISMATCH, HANDLER_NOT_FOUND
 */
export async function resolveHandler(
  tree: string,
  options: { runtime?: RuntimeName | undefined; handler?: string | undefined; command?: string | undefined; protocol?: ExecProtocol | undefined },
): Promise<ResolvedHandler> {
  const { handler } = options;
  if ((options.runtime === 'node' || options.runtime === 'python') && (options.command !== undefined || options.protocol !== undefined)) {
    const field = options.command !== undefined ? 'command' : 'protocol';
    throw new NimbusError('INVALID_REQUEST', `${field} is a setting of the exec runtime, not of ${options.runtime}.`, { details: { field } });
  }
  // exec: asked for, implied by a command, or declared by the package's manifest.
  if (options.runtime === 'exec' || options.command !== undefined || (options.runtime === undefined && handler === undefined && (await readManifest(tree)) !== undefined)) {
    return resolveExecHandler(tree, { command: options.command ?? handler, protocol: options.protocol });
  }
  if (options.runtime === 'node' || options.runtime === 'python') await checkRuntimeFits(tree, options.runtime, () => detectedOrNone(tree));
  if (options.runtime === 'node') return resolveNodeHandler(tree, handler);
  if (options.runtime === 'python') return resolvePythonHandler(tree, handler);
  if (handler !== undefined) {
    for (const resolve of [resolveNodeHandler, resolvePythonHandler]) {
      const resolved = await resolve(tree, handler).catch((err: unknown) => {
        if (isNimbusError(err) && err.code === 'HANDLER_NOT_FOUND') return undefined;
        throw err;
      });
      if (resolved) return resolved;
    }
  }
  // Neither fits the given handler: resolving again for the detected runtime explains why.
  return (await detectRuntime(tree)) === 'node' ? resolveNodeHandler(tree, handler) : resolvePythonHandler(tree, handler);
}

/**
 * Detects the runtime from the files: python when handler.py, main.py or lambda_function.py
 * is at the root, or the root has .py files and no package.json or JS/TS; node when there is a
 * package.json, JS/TS at the root, or JS/TS anywhere (outside node_modules and hidden folders).
 *
 * @throws RUNTIME_NOT_DETECTED saying what was looked for.
 */
export async function detectRuntime(tree: string): Promise<RuntimeName> {
  const root = await filesIn(tree);
  if (root.some((name) => PYTHON_MARKERS.includes(name))) return 'python';
  const nodeAtRoot = root.includes('package.json') || root.some(isNodeSource);
  if (!nodeAtRoot && root.some((name) => name.endsWith('.py'))) return 'python';
  if (nodeAtRoot || (await containsFile(tree, isNodeSource))) return 'node';
  throw new NimbusError(
    'RUNTIME_NOT_DETECTED',
    `Cannot tell the runtime from the package: looked for ${MANIFEST_FILE} (exec), ${PYTHON_MARKERS.join(', ')} or .py files (python), and package.json or .js/.ts files (node). Pass it explicitly, e.g. --runtime node --handler src/app.ts, --runtime python --handler app.handler, or --runtime exec --command ./server for any program.`,
    { details: { field: 'runtime' } },
  );
}

/** The runtime the files suggest, or undefined when they suggest none. */
async function detectedOrNone(tree: string): Promise<RuntimeName | undefined> {
  try {
    return await detectRuntime(tree);
  } catch (err) {
    if (isNimbusError(err) && err.code === 'RUNTIME_NOT_DETECTED') return undefined;
    throw err;
  }
}
