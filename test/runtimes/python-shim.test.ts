import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { PY_ROUTES } from './python-fixtures.js';
import { BINARY, spawnShim, startFunction, startShim, within, writeFixtures } from './shim-harness.js';
import { checkInitContract } from './init-contract.js';

test('python: method, sub-path, query, headers and a binary body round-trip (Content-Length and chunked)', async () => {
  const { shim, form } = await startFunction('python', { 'handler.py': PY_ROUTES }, { entry: 'handler.py' });
  try {
    assert.equal(form, 'lambda');
    const res = await shim.request({ method: 'PUT', path: '/binary?x=1', body: BINARY, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, BINARY);
    const chunked = await shim.request({ method: 'POST', path: '/binary', body: Readable.from([BINARY.subarray(0, 7), BINARY.subarray(7)]) });
    assert.deepEqual(chunked.body, BINARY);
    // The connection stays usable after a chunked body (keep-alive).
    assert.equal((await shim.request({ path: '/string' })).text(), 'plain text');
  } finally {
    await shim.stop();
  }
});

test('python: v2.0 event, context, env and working directory', async () => {
  const { shim, codeDir } = await startFunction(
    'python',
    { 'handler.py': PY_ROUTES },
    { entry: 'handler.py', function: 'orders', version: 7, env: { GREETING: 'hi there' } },
  );
  try {
    const deadline = Date.now() + 5000;
    const res = await shim.request({
      method: 'PATCH',
      path: '/event?a=1&a=2&b=x%20y',
      id: 'inv-py-ev',
      headers: ['X-Dup', '1', 'X-Dup', '2', 'Cookie', 'c1=v1; c2=v2', 'content-type', 'application/json', 'user-agent', 'test-agent',
        'x-forwarded-for', '203.0.113.5, 10.0.0.1', 'x-nimbus-deadline', String(deadline)],
      body: '{"k":"v"}',
    });
    assert.equal(res.status, 200);
    const { event, context, env, cwd } = res.json();
    assert.equal(event.version, '2.0');
    assert.equal(event.rawPath, '/event');
    assert.equal(event.rawQueryString, 'a=1&a=2&b=x%20y');
    assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(event.headers['x-dup'], '1,2');
    assert.deepEqual(event.queryStringParameters, { a: '1,2', b: 'x y' });
    assert.equal(event.body, '{"k":"v"}');
    assert.equal(event.isBase64Encoded, false);
    assert.deepEqual(event.requestContext.http, { method: 'PATCH', path: '/event', protocol: 'HTTP/1.1', sourceIp: '203.0.113.5', userAgent: 'test-agent' });
    assert.equal(event.requestContext.requestId, 'inv-py-ev');
    assert.match(event.requestContext.time, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    assert.equal(context.function_name, 'orders');
    assert.equal(context.function_version, '7');
    assert.equal(context.memory_limit_in_mb, '128');
    assert.equal(context.aws_request_id, 'inv-py-ev');
    assert.match(context.invoked_function_arn, /:function:orders$/);
    assert.ok(context.remaining > 3000 && context.remaining <= 5000, `remaining ${context.remaining}`);
    assert.equal(env, 'hi there');
    assert.equal(cwd, codeDir);
    const none = (await shim.request({ path: '/event' })).json();
    assert.equal(none.event.body, undefined);
    assert.equal(none.event.isBase64Encoded, false);
    assert.deepEqual(shim.lines(null), ['module loaded']);
  } finally {
    await shim.stop();
  }
});

test('python: response mapping and errors', async () => {
  const { shim } = await startFunction('python', { 'handler.py': PY_ROUTES }, { entry: 'handler.py' });
  try {
    const text = await shim.request({ path: '/string' });
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    for (const [path, body] of [['/dict', { a: 1, nested: [true, null] }], ['/list', [1, 2, 3]]] as const) {
      const res = await shim.request({ path });
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(res.json(), body);
    }
    assert.equal((await shim.request({ path: '/none' })).status, 204);
    const status = await shim.request({ path: '/status' });
    assert.equal(status.status, 202);
    assert.equal(status.headers['x-one'], '1');
    assert.deepEqual(status.headers['x-multi'], ['a', 'b']);
    assert.deepEqual(status.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
    assert.equal(status.text(), 'decoded body');

    const thrown = await shim.request({ path: '/throw', id: 'inv-py-throw' });
    assert.equal(thrown.status, 500);
    assert.equal(thrown.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
    assert.deepEqual(thrown.json(), { error: { type: 'ValueError', message: 'python boom' } });
    await shim.waitForLog((l) => l.id === 'inv-py-throw' && l.s === 'err' && l.m.includes('ValueError: python boom'));
    const bad = await shim.request({ path: '/bad-status' });
    assert.equal(bad.headers['x-nimbus-shim-error'], 'INVALID_RESPONSE');

    // RLIMIT_AS turns a runaway allocation into a MemoryError, and the instance lives on.
    const hog = await shim.request({ path: '/memory' });
    assert.equal(hog.status, 500);
    assert.equal(hog.json().error.type, 'MemoryError');
    assert.equal((await shim.request({ path: '/string' })).status, 200);
  } finally {
    await shim.stop();
  }
});

test('python: logs are tagged with the right invocation id when invocations run concurrently', async () => {
  const { shim } = await startFunction('python', { 'handler.py': PY_ROUTES }, { entry: 'handler.py' });
  try {
    await Promise.all([shim.request({ path: '/logs?name=A', id: 'inv-A' }), shim.request({ path: '/logs?name=B', id: 'inv-B' })]);
    for (const name of ['A', 'B']) {
      await shim.waitForLog((l) => l.id === `inv-${name}` && l.m === `tail ${name}`);
      assert.deepEqual(shim.lines(`inv-${name}`), [`begin ${name}`, `partial ${name} end`, `tail ${name}`]);
      assert.deepEqual(shim.lines(`inv-${name}`, 'err'), [`err ${name}`]);
    }
    await shim.request({ path: '/long-line', id: 'inv-long' });
    assert.deepEqual(shim.lines('inv-long').map((m) => m.length), [16384, 16384, 7232]);
    assert.deepEqual(shim.rawLines, []);
  } finally {
    await shim.stop();
  }
});

test('python: named and async handlers; init errors; health; second init', async () => {
  const codeDir = writeFixtures({ 'handler.py': PY_ROUTES, 'broken.py': 'def handler(:\n  pass\n', 'fails.py': 'import not_a_module_at_all\n' });
  try {
    for (const [exportName, body] of [['other', 'named export'], ['async_handler', 'from a coroutine']]) {
      const shim = await startShim('python');
      try {
        assert.equal((await shim.init({ codeDir, entry: 'handler.py', export: exportName })).status, 200);
        assert.equal((await shim.request({})).text(), body);
      } finally {
        await shim.stop();
      }
    }
    const cases = [
      { entry: 'handler.py', export: 'nope', code: 'HANDLER_NOT_FOUND', message: /nope/ },
      { entry: 'missing.py', code: 'HANDLER_NOT_FOUND', message: /missing\.py/ },
      { entry: 'broken.py', code: 'HANDLER_LOAD_FAILED', message: /SyntaxError/ },
      { entry: 'fails.py', code: 'HANDLER_LOAD_FAILED', message: /ModuleNotFoundError: No module named 'not_a_module_at_all'/ },
    ];
    await checkInitContract('python', codeDir, cases, 'handler.py');
  } finally {
    rmSync(codeDir, { recursive: true, force: true });
  }
});

test('python lifecycle: fd 3 closed -> exit; SIGTERM drains in-flight work then exits 0', async () => {
  // The platform dying while the shim still starts (imports): the ready line meets EPIPE.
  const orphan = spawnShim('python');
  orphan.control.destroy();
  assert.deepEqual(await within(orphan.exited, 2000, 'exit when the platform died during start-up'), { code: 0, signal: null });
  await orphan.stop();

  const idle = await startShim('python');
  idle.control.destroy();
  await within(idle.exited, 2000, 'exit after the control channel closed');
  await idle.stop();

  const { shim } = await startFunction('python', { 'handler.py': PY_ROUTES }, { entry: 'handler.py' });
  try {
    const slow = shim.request({ path: '/slow', id: 'inv-slow' });
    await shim.waitForLog((l) => l.id === 'inv-slow' && l.m === 'started');
    shim.child.kill('SIGTERM');
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'done');
    assert.deepEqual(await within(shim.exited, 2000, 'exit after drain'), { code: 0, signal: null });
  } finally {
    await shim.stop();
  }
});
