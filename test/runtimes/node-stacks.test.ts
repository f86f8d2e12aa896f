/**
 * Stacks name the user's files: code bundled as the builder bundles it (an external source map
 * beside `__nimbus_bundle.cjs`) fails at load or in a handler, and what the shim answers and logs
 * points at the source file and line, relative to the code directory.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bundleNode } from '../../src/packages/bundle.js';
import { startShim, writeFixtures } from './shim-harness.js';

/** A module whose third line throws while loading (column 18 is `new Error`). */
const THROWS_AT_LOAD = 'import { setting } from "./lib/config";\nconst ready = setting();\nif (ready) throw new Error("no database");\nexport default () => new Response("never");\n';
const CONFIG = 'export function setting(): boolean {\n  return true;\n}\n';
/** A handler throwing from a helper in another file (lib/fail.ts line 2, column 9). */
const THROWS_IN_HANDLER = 'import { fail } from "./lib/fail";\nexport default { fetch: () => fail() };\n';
const FAIL = 'export function fail(): never {\n  throw new RangeError("handler boom");\n}\n';

async function bundled(files: Record<string, string>, entry: string): Promise<{ dir: string; bundle: string }> {
  const dir = writeFixtures(files);
  return { dir, bundle: await bundleNode(dir, entry) };
}

test('a module that throws while loading is reported at its own file and line, not the bundle', async () => {
  const { dir, bundle } = await bundled({ 'index.ts': THROWS_AT_LOAD, 'lib/config.ts': CONFIG }, 'index.ts');
  const shim = await startShim('node');
  shim.tempDirs.push(dir);
  try {
    const res = await shim.init({ codeDir: dir, entry: bundle, source: 'index.ts' });
    assert.equal(res.status, 500);
    const { code, message } = (res.json() as { error: { code: string; message: string } }).error;
    assert.equal(code, 'HANDLER_LOAD_FAILED');
    assert.equal(message, 'Loading index.ts failed: Error: no database (at index.ts:3:18)');
    // The logged stack, too: relative, mapped, and no trace of the bundle or the code directory.
    await shim.waitForLog((l) => l.m.includes('index.ts:3:18'));
    const logged = shim.lines(null, 'err').join('\n');
    assert.match(logged, /init failed: HANDLER_LOAD_FAILED: Error: no database\n\s+at .*index\.ts:3:18/);
    assert.doesNotMatch(logged, /__nimbus_bundle/);
    assert.ok(!logged.includes(dir), logged);
  } finally {
    await shim.stop();
  }
});

test("a handler's error is logged with the user's file and line", async () => {
  const { dir, bundle } = await bundled({ 'app.ts': THROWS_IN_HANDLER, 'lib/fail.ts': FAIL }, 'app.ts');
  const shim = await startShim('node');
  shim.tempDirs.push(dir);
  try {
    assert.equal((await shim.init({ codeDir: dir, entry: bundle, source: 'app.ts' })).status, 200);
    const res = await shim.request({ path: '/', id: 'inv-boom' });
    assert.equal(res.status, 500);
    await shim.waitForLog((l) => l.id === 'inv-boom' && l.m.includes('app.ts:'));
    const logged = shim.lines('inv-boom', 'err').join('\n');
    assert.match(logged, /RangeError: handler boom\n\s+at fail \(lib\/fail\.ts:2:9\)\n\s+at .*\(app\.ts:2:31\)/);
    assert.doesNotMatch(logged, /__nimbus_bundle/);
  } finally {
    await shim.stop();
  }
});

test('an uncaught exception after the response is logged with the user file before the instance exits', async () => {
  const source = 'export default () => {\n  setTimeout(() => {\n    throw new TypeError("late");\n  }, 1);\n  return new Response("ok");\n};\n';
  const { dir, bundle } = await bundled({ 'index.js': source }, 'index.js');
  const shim = await startShim('node');
  shim.tempDirs.push(dir);
  try {
    assert.equal((await shim.init({ codeDir: dir, entry: bundle, source: 'index.js' })).status, 200);
    assert.equal((await shim.request({ path: '/' })).text(), 'ok');
    await shim.waitForLog((l) => l.m.includes('index.js:'));
    const logged = shim.logs.map((l) => l.m).join('\n');
    assert.match(logged, /uncaught exception, exiting: TypeError: late\n\s+at .*\(index\.js:3:11\)/);
  } finally {
    await shim.stop();
  }
});

test('code loaded without a bundle still has paths relative to the code directory', async () => {
  const dir = writeFixtures({ 'plain.cjs': 'const x = 1;\nthrow new Error("plain " + x);\n' });
  const shim = await startShim('node');
  shim.tempDirs.push(dir);
  try {
    const res = await shim.init({ codeDir: dir, entry: 'plain.cjs' });
    assert.equal((res.json() as { error: { message: string } }).error.message, 'Loading plain.cjs failed: Error: plain 1 (at plain.cjs:2:7)');
  } finally {
    await shim.stop();
  }
});
