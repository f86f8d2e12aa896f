import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The package's root directory (the one holding package.json), found by walking up from this
 * module. Works both from `dist/src/runtime-adapters/` and from `src/runtime-adapters/`, which
 * matters because the Python shim is not compiled and lives only in `src/`.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Absolute path of the compiled Node shim. */
export function nodeShimPath(): string {
  return join(packageRoot(), 'dist', 'src', 'runtimes', 'node', 'shim.cjs');
}

/** Absolute path of the Python shim (shipped as source). */
export function pythonShimPath(): string {
  return join(packageRoot(), 'src', 'runtimes', 'python', 'shim.py');
}
