import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/core/clock.js';
import { LocalProvider } from '../../src/providers/local/provider.js';
import { runtimeAdapters } from '../../src/runtime-adapters/index.js';
import { ProcessSandbox } from '../../src/sandbox/process.js';
import { StdioPlan } from '../../src/sandbox/descriptors.js';
import type { FunctionRecord } from '../../src/store/types.js';
import { LogBuffer } from '../../src/telemetry/logs.js';
import { InProcessProvider } from './in-process-provider.js';
import { providerContract } from './provider-contract.js';

function record(name: string, buildId: string): FunctionRecord {
  return {
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    build: { buildId, entry: 'index.js' },
    spec: { name, runtime: 'node', handler: 'index.js', env: {}, timeoutMs: 5000, memoryMb: 128, idleTimeoutMs: 60_000, concurrency: 4, maxInstances: 2, minInstances: 0, network: 'host', packageSha256: 'x' },
  };
}

providerContract('in-process test servers', async () => ({
  provider: () =>
    new InProcessProvider({
      handlerFor: (fn) => (fn.spec.name === 'broken' ? new Error('SyntaxError: Unexpected token') : (_req, res) => void res.end('hello')),
    }),
  hello: record('hello', 'hello'),
  broken: record('broken', 'broken'),
}));

providerContract('local processes (process sandbox)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-provider-'));
  const code = (buildId: string, source: string) => {
    const dir = join(root, buildId);
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.js'), source);
  };
  code('hello', 'module.exports = async () => new Response("hello");');
  code('broken', 'module.exports = async () => { return new Response("x") ;; )');
  const sandbox = new ProcessSandbox(new StdioPlan());
  return {
    provider: () =>
      new LocalProvider({
        sandbox,
        runtimes: runtimeAdapters,
        logs: new LogBuffer(),
        clock: systemClock,
        codeDir: (fn) => join(root, fn.build.buildId),
        warmPoolSize: 0,
      }),
    hello: record('hello', 'hello'),
    broken: record('broken', 'broken'),
    cleanup: async () => {
      await sandbox.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
});

test("a deploy-time check leaves the warm spare to the function's first invocation", async () => {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-provider-'));
  mkdirSync(join(root, 'hello'));
  writeFileSync(join(root, 'hello', 'index.js'), 'module.exports = async () => new Response("hello");');
  const sandbox = new ProcessSandbox(new StdioPlan());
  const provider = new LocalProvider({ sandbox, runtimes: runtimeAdapters, logs: new LogBuffer(), clock: systemClock, codeDir: (fn) => join(root, fn.build.buildId), warmPoolSize: 1 });
  try {
    // The pool fills the default profile (256 MB, host network here) at start.
    const fn = { ...record('hello', 'hello'), spec: { ...record('hello', 'hello').spec, memoryMb: 256 } };
    const deadline = Date.now() + 20_000;
    while (provider.spareCount < 2 && Date.now() < deadline) await sleep(20);
    const before = provider.spareCount;
    assert.ok(before >= 1, 'the pool filled');
    await provider.check(fn);
    assert.equal(provider.spareCount, before, 'the check started a process of its own');
    const instance = await provider.start(fn);
    assert.equal(provider.spareCount, before - 1, 'the first start took the spare');
    await instance.stop();
  } finally {
    await provider.shutdown();
    await sandbox.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('instances report CPU time unless the provider is told nothing reads it (meterCpu)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nimbus-provider-'));
  mkdirSync(join(root, 'hello'));
  writeFileSync(join(root, 'hello', 'index.js'), 'module.exports = async () => new Response("hello");');
  const sandbox = new ProcessSandbox(new StdioPlan());
  try {
    for (const meterCpu of [undefined, false]) {
      const provider = new LocalProvider({ sandbox, runtimes: runtimeAdapters, logs: new LogBuffer(), clock: systemClock, codeDir: (fn) => join(root, fn.build.buildId), warmPoolSize: 0, ...(meterCpu === undefined ? {} : { meterCpu }) });
      try {
        const instance = await provider.start(record('hello', 'hello'));
        const res = await instance.dispatcher.request({ path: '/', method: 'GET', headers: { 'x-nimbus-invocation-id': 'cpu' } });
        assert.equal(await res.body.text(), 'hello');
        const header = res.headers['x-nimbus-cpu-us'];
        if (meterCpu === false) assert.equal(header, undefined, 'meterCpu: false');
        else assert.match(String(header), /^\d+$/, 'reported by default');
        await instance.stop();
      } finally {
        await provider.shutdown();
      }
    }
  } finally {
    await sandbox.close();
    rmSync(root, { recursive: true, force: true });
  }
});
