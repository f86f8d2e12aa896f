/**
 * Deploys load the new code once before it is stored: code that can never run is refused with a
 * 400 that names the file, and the previous version keeps serving; a start that fails for other
 * reasons (an exception at import) is deployed and reported.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { api, deploy, invoke, packFolder, startPlatform, upload, waitFor, writeFunction, type TestPlatform } from './harness.js';

describe('deploy-time checks', () => {
  let platform: TestPlatform;
  const dirs: string[] = [];
  before(async () => {
    platform = await startPlatform();
  });
  after(async () => {
    await platform?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function put(name: string, files: Record<string, string>, config: Record<string, unknown> = {}) {
    const dir = await writeFunction(files);
    dirs.push(dir);
    const uploaded = await upload(platform.url, await packFolder(dir));
    return api(platform.url, 'PUT', `/api/v1/functions/${name}`, { package: uploaded.json.sha256, ...config });
  }

  test('a Python syntax error is refused, naming file and line; version 1 keeps serving', async () => {
    const good = await writeFunction({ 'handler.py': 'def handler(event, context):\n    return "v1"\n' });
    dirs.push(good);
    await deploy(platform.url, 'py', good);
    const res = await put('py', { 'handler.py': 'def handler(event, context):\n    return "v2"\n\ndef broken(:\n    pass\n' });
    assert.equal(res.status, 400);
    assert.equal(res.json?.error?.code, 'HANDLER_SYNTAX_ERROR');
    assert.match(res.json?.error?.message, /handler\.py, line 4/);
    assert.match(res.json?.error?.message, /Nothing was deployed; version 1 keeps serving\./);
    assert.equal((await invoke(platform.url, 'py')).text, 'v1');
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/py')).json?.version, 1);
  });

  test('node code exporting no handler of any form is refused with the accepted forms', async () => {
    const res = await put('no-handler', { 'index.js': 'export const answer = 42;\n' });
    assert.equal(res.status, 400);
    assert.equal(res.json?.error?.code, 'HANDLER_NOT_FOUND');
    assert.match(res.json?.error?.message, /^index\.js exports no handler.*fetch handler.*\(req, res\).*"handler"/);
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/no-handler')).status, 404, 'nothing was stored');
  });

  test('an exception at import is deployed and reported as the last start error, until a start succeeds', async () => {
    const res = await put('throws', { 'index.js': 'throw new Error("cannot reach the database");\nexport default () => new Response("ok");\n' });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.match(res.json?.lastStartError?.message, /Loading index\.js failed: Error: cannot reach the database \(at index\.js:1:7\)/);
    assert.doesNotMatch(res.json?.lastStartError?.message, /__nimbus_bundle|\/code\//);
    const shown = await api(platform.url, 'GET', '/api/v1/functions/throws');
    assert.match(shown.json?.lastStartError?.message, /cannot reach the database/);
    assert.equal((await invoke(platform.url, 'throws')).headers['x-nimbus-error'], 'FUNCTION_START_FAILED');
    const fixed = await put('throws', { 'index.js': 'export default () => new Response("fixed");\n' });
    assert.equal(fixed.status, 200);
    assert.equal(fixed.json?.lastStartError, undefined);
    assert.equal((await invoke(platform.url, 'throws')).text, 'fixed');
  });

  test('a python exception at import names the file and line in the user code', async () => {
    const res = await put('py-throws', {
      'handler.py': 'from lib import db\n\ndef handler(event, context):\n    return "ok"\n',
      'lib/__init__.py': '',
      'lib/db.py': 'import os\n\nraise RuntimeError("no DATABASE_URL")\n',
    });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.match(res.json?.lastStartError?.message, /Loading handler\.py failed: RuntimeError: no DATABASE_URL \(at lib\/db\.py:3\)/);
  });

  test('a python syntax error in an imported module names its path in the package', async () => {
    const res = await put('py-nested', { 'handler.py': 'import helpers.util\n\ndef handler(event, context):\n    return "ok"\n', 'helpers/__init__.py': '', 'helpers/util.py': 'x = 1\nif x\n    pass\n' });
    assert.equal(res.status, 400);
    assert.equal(res.json?.error?.code, 'HANDLER_SYNTAX_ERROR');
    assert.match(res.json?.error?.message, /\(helpers\/util\.py, line 2\)/);
  });

  test("a node handler's error is logged with the user's file and line", async () => {
    const res = await put('node-boom', { 'index.js': 'import { fail } from "./lib/fail.js";\nexport default () => fail("boom");\n', 'lib/fail.js': 'export function fail(why) {\n  throw new RangeError(why);\n}\n' });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.equal((await invoke(platform.url, 'node-boom')).headers['x-nimbus-error'], 'FUNCTION_ERROR');
    let logged = '';
    await waitFor(async () => {
      const logs = (await api(platform.url, 'GET', '/api/v1/functions/node-boom/logs')).json as unknown as { logs: { message: string }[] };
      logged = logs.logs.map((l) => l.message).join('\n');
      return logged.includes('index.js:2:');
    });
    assert.match(logged, /RangeError: boom\n\s+at fail \(lib\/fail\.js:2:9\)\n\s+at .*\(index\.js:2:22\)/);
    assert.doesNotMatch(logged, /__nimbus_bundle/);
  });

  test('a folder written for the other runtime is refused with RUNTIME_MISMATCH; version 1 keeps serving', async () => {
    const good = await writeFunction({ 'index.js': 'export default () => new Response("v1");\n' });
    dirs.push(good);
    await deploy(platform.url, 'mismatch', good);
    const python = await put('mismatch', { 'package.json': '{"name":"x"}', 'index.js': 'export default () => new Response("v2");\n' }, { runtime: 'python' });
    assert.equal(python.status, 400);
    assert.equal(python.headers['x-nimbus-error'], 'RUNTIME_MISMATCH');
    assert.equal(python.json?.error?.code, 'RUNTIME_MISMATCH');
    assert.match(python.json?.error?.message, /looks like Node\.js \(index\.js, package\.json\)\. Deploy it with --runtime node/);
    const node = await put('mismatch', { 'handler.py': 'def handler(event, context):\n    return "v2"\n' }, { runtime: 'node' });
    assert.equal(node.json?.error?.code, 'RUNTIME_MISMATCH');
    assert.match(node.json?.error?.message, /looks like Python \(handler\.py\)\. Deploy it with --runtime python/);
    assert.equal((await invoke(platform.url, 'mismatch')).text, 'v1');
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/mismatch')).json?.version, 1);
  });
});
