import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { FunctionSpec } from '../../src/core/spec.js';
import type { Store } from '../../src/store/types.js';

/** A complete spec for `name`; `overrides` changes single fields. */
export function sampleSpec(name: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name,
    runtime: 'node',
    handler: 'index.ts',
    env: { GREETING: 'hi' },
    timeoutMs: 30_000,
    memoryMb: 256,
    idleTimeoutMs: 300_000,
    concurrency: 64,
    maxInstances: 10,
    minInstances: 0,
    packageSha256: 'a'.repeat(64),
    ...overrides,
  };
}

/**
 * Fresh stores on temporary directories for the enclosing suite (`fresh(dir)` reopens one), closed
 * and removed after it.
 */
export function storeFixture(open: (dir: string) => Promise<Store>, prefix: string): (dir?: string) => Promise<{ store: Store; dir: string }> {
  let root: string;
  let dirCount = 0;
  const stores: Store[] = [];
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    for (const store of stores) await store.close();
    await rm(root, { recursive: true, force: true });
  });
  return async (dir) => {
    const where = dir ?? join(root, `s${dirCount++}`);
    const store = await open(where);
    stores.push(store);
    return { store, dir: where };
  };
}
