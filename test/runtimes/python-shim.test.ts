import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { PY_ROUTES } from './python-fixtures.js';
import { BINARY, startFunction, startShim, writeFixtures } from './shim-harness.js';
import { checkControlChannel, checkCpuReport, checkInitContract, checkLambdaEvent, checkLogTagging, checkLambdaResponses, checkSigtermDrain } from './shim-contract.js';

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
    const { context, env, cwd } = await checkLambdaEvent(shim, 'PATCH', 'inv-py-ev');
    assert.equal(context.function_name, 'orders');
    assert.equal(context.function_version, '7');
    assert.equal(context.memory_limit_in_mb, '128');
    assert.equal(context.aws_request_id, 'inv-py-ev');
    assert.match(context.invoked_function_arn, /:function:orders$/);
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
    await checkLambdaResponses(shim, { type: 'ValueError', message: 'python boom', id: 'inv-py-throw' });

    // RLIMIT_AS turns a runaway allocation into a MemoryError, and the instance lives on.
    const hog = await shim.request({ path: '/memory' });
    assert.equal(hog.status, 500);
    assert.equal(hog.json().error.type, 'MemoryError');
    assert.equal((await shim.request({ path: '/string' })).status, 200);
  } finally {
    await shim.stop();
  }
});

test('python: the runtime is not dumpable (PR_SET_DUMPABLE 0), so no other process of its uid can read its memory', async () => {
  const { shim } = await startFunction('python', { 'handler.py': PY_ROUTES }, { entry: 'handler.py' });
  try {
    assert.deepEqual((await shim.request({ path: '/dumpable' })).json(), { dumpable: 0 });
  } finally {
    await shim.stop();
  }
});

test('python: logs are tagged with the right invocation id when invocations run concurrently', async () => {
  await checkLogTagging('python', { 'handler.py': PY_ROUTES }, 'handler.py');
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
      { entry: 'broken.py', code: 'HANDLER_SYNTAX_ERROR', message: /SyntaxError/ },
      { entry: 'fails.py', code: 'HANDLER_LOAD_FAILED', message: /ModuleNotFoundError: No module named 'not_a_module_at_all'/ },
    ];
    await checkInitContract('python', codeDir, cases, 'handler.py');
  } finally {
    rmSync(codeDir, { recursive: true, force: true });
  }
});

test('python lifecycle: fd 3 closed -> exit; SIGTERM drains in-flight work then exits 0', async () => {
  await checkControlChannel('python');
  await checkSigtermDrain('python', { 'handler.py': PY_ROUTES }, 'handler.py');
});

test('the CPU report: at least the CPU a handler burnt, small for one that burns nothing, none with meterCpu off', async () => {
  await checkCpuReport('python', {
    files: {
      'burn.py': `import time

def handler(event, context):
    # Until this thread has used ms of CPU time, as the shim's report counts it.
    end = time.thread_time() + int(event["queryStringParameters"]["ms"]) / 1000
    x = 0
    while time.thread_time() < end:
        x += 1
    return {"statusCode": 200, "body": str(x >= 0)}
`,
    },
    entry: 'burn.py',
    burnPath: (ms) => `/?ms=${ms}`,
  });
});
