import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FunctionRecord } from '../../src/store/types.js';

/** A node function record whose build is `buildId` (a folder of the code root). */
export function record(name: string, buildId: string, memoryMb = 128, version = 1): FunctionRecord {
  return {
    version,
    createdAt: 0,
    updatedAt: 0,
    build: { buildId, entry: 'index.js' },
    spec: { name, runtime: 'node', handler: 'index.js', env: {}, timeoutMs: 5000, memoryMb, idleTimeoutMs: 60_000, concurrency: 4, maxInstances: 2, minInstances: 0, network: 'outbound', packageSha256: 'x' },
  };
}

/** A folder of builds, one sub-folder each with an index.js. */
/** A python function record, Lambda style (`main.handler`) in build `buildId`. */
export function pythonRecord(name: string, buildId: string): FunctionRecord {
  const base = record(name, buildId, 128);
  return { ...base, build: { buildId, entry: 'main.py', export: 'handler' }, spec: { ...base.spec, runtime: 'python', handler: 'main.handler' } };
}

export function codeRoot(builds: Record<string, string>): { root: string; codeDir(fn: FunctionRecord): string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-k8s-code-'));
  for (const [buildId, source] of Object.entries(builds)) {
    // A build named *.py is a python module; every other an index.js.
    const [folder, file] = buildId.endsWith('.py') ? [buildId.slice(0, -3), 'main.py'] : [buildId, 'index.js'];
    mkdirSync(join(root, folder), { recursive: true });
    writeFileSync(join(root, folder, file), source);
  }
  return { root, codeDir: (fn) => join(root, fn.build.buildId), remove: () => rmSync(root, { recursive: true, force: true }) };
}
