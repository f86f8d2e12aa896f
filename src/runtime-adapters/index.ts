import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { RuntimeName } from '../core/spec.js';
import { nodeShimPath, pythonShimPath } from './paths.js';
import type { RuntimeAdapter } from './types.js';

export { nodeShimPath, packageRoot, pythonShimPath } from './paths.js';

/**
 * V8's heap limit as a share of the instance's memory: the rest is left for code, stacks, buffers
 * and native allocations, which count against the same limit.
 */
const NODE_HEAP_SHARE = 0.8;

/**
 * The installation an interpreter belongs to, when it lies outside /usr (which every sandbox
 * shows): e.g. `/opt/node` for `/opt/node/bin/node`.
 */
export function installationOf(executable: string): string[] {
  const real = realpathSync(executable);
  return real.startsWith('/usr/') ? [] : [dirname(dirname(real))];
}

/**
 * Node instances run the compiled shim (`shim.cjs` in `shimDir`) with the `node` binary, by
 * default the platform's own.
 */
export function createNodeAdapter(shimDir: string = dirname(nodeShimPath()), node: string = process.execPath): RuntimeAdapter {
  return {
    name: 'node',
    shimDir,
    withShimDir: (dir) => createNodeAdapter(dir, node),
    command({ memoryMb }) {
      const heapMb = Math.max(16, Math.floor(memoryMb * NODE_HEAP_SHARE));
      return { command: node, args: [`--max-old-space-size=${heapMb}`, join(shimDir, 'shim.cjs')] };
    },
    runtimePaths: () => [shimDir, ...installationOf(node)],
  };
}

/** The node adapter with the shim where the build put it. */
export const nodeAdapter: RuntimeAdapter = createNodeAdapter();

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a python3 interpreter: /usr/bin/python3 when present, else the first `python3` on PATH
 * that is not a version-manager shim (pyenv, asdf): shims are scripts that need the user's shell
 * environment, and instances get a clean one.
 */
export function findPython(path: string = process.env.PATH ?? ''): string | undefined {
  if (isExecutable('/usr/bin/python3')) return '/usr/bin/python3';
  for (const dir of path.split(delimiter)) {
    if (dir === '' || /[\\/]shims$/.test(dir) || dir.includes('/.pyenv/') || dir.includes('/.asdf/')) continue;
    const candidate = join(dir, 'python3');
    if (existsSync(candidate) && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Python adapter running `python` (an interpreter path, or a function that finds one on first
 * use, like {@link findPython}) on `shim.py` in `shimDir`. `-I` (isolated: no user site-packages,
 * no PYTHON* variables, the shim's folder not on sys.path) and `-B` (no .pyc files: the function's
 * code directory is never modified). The shim applies the memory limit itself, from `--memory-mb`.
 */
export function createPythonAdapter(python: string | undefined | (() => string | undefined), shimDir: string = dirname(pythonShimPath())): RuntimeAdapter {
  let found: { path: string | undefined } | undefined;
  const interpreter = () => (found ??= { path: typeof python === 'function' ? python() : python }).path;
  return {
    name: 'python',
    shimDir,
    withShimDir: (dir) => createPythonAdapter(python, dir),
    command({ memoryMb }) {
      const path = interpreter();
      if (!path) throw new Error('No python3 interpreter found (looked for /usr/bin/python3, then python3 on PATH).');
      return { command: path, args: ['-I', '-B', join(shimDir, 'shim.py'), '--memory-mb', String(memoryMb)] };
    },
    runtimePaths: () => {
      const path = interpreter();
      return [shimDir, ...(path ? installationOf(path) : [])];
    },
  };
}

/** V8 heap of the exec shim: it only relays requests; the memory limit is the program's. */
const EXEC_SHIM_HEAP_MB = 32;

/**
 * The exec runtime runs any program: the exec shim (`exec-shim.cjs`, shipped with the Node shim
 * in `shimDir`) starts the function's command and relays invocations to it.
 */
export function createExecAdapter(shimDir: string = dirname(nodeShimPath()), node: string = process.execPath): RuntimeAdapter {
  return {
    name: 'exec',
    shimDir,
    withShimDir: (dir) => createExecAdapter(dir, node),
    command: () => ({ command: node, args: [`--max-old-space-size=${EXEC_SHIM_HEAP_MB}`, join(shimDir, 'exec-shim.cjs')] }),
    runtimePaths: () => [shimDir, ...installationOf(node)],
  };
}

/** The adapters, by runtime name. The Python interpreter is looked up on first use. */
export const runtimeAdapters: Record<RuntimeName, RuntimeAdapter> = {
  node: nodeAdapter,
  python: createPythonAdapter(() => findPython()),
  exec: createExecAdapter(),
};
