import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BINARY, startFunction, startShim, EVENT_LIMIT_MS, within, writeFixtures } from './shim-harness.js';
import { LAMBDA_CALLBACK, LAMBDA_ROUTES, WEB_ECHO, WEB_OBJECT, WEB_ROUTES, WEB_SYNC_ROUTES } from './node-fixtures.js';
import { checkCpuReport, checkLambdaEvent, checkLambdaResponses } from './shim-contract.js';

test('web function: method, sub-path, query, headers and a binary body round-trip', async () => {
  const { shim, form } = await startFunction('node', { 'echo.cjs': WEB_ECHO }, { entry: 'echo.cjs' });
  try {
    assert.equal(form, 'web');
    const res = await shim.request({ method: 'PUT', path: '/sub/path?a=1&b=two%20words', headers: { 'x-custom': 'yes' }, body: BINARY, id: 'inv-1' });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-method'], 'PUT');
    assert.equal(res.headers['x-url'], 'http://localhost/sub/path?a=1&b=two%20words');
    assert.equal(res.headers['x-custom'], 'yes');
    assert.equal(res.headers['x-id'], 'inv-1');
    assert.deepEqual(res.body, BINARY);
    // A streamed (chunked) request body arrives whole.
    const chunked = await shim.request({ method: 'POST', body: Readable.from([BINARY.subarray(0, 100), BINARY.subarray(100)]) });
    assert.deepEqual(chunked.body, BINARY);
    const get = await shim.request({ path: '/' });
    assert.equal(get.headers['x-has-body'], 'false');
  } finally {
    await shim.stop();
  }
});

test('web object with fetch (ESM, this, env, ctx); module-load logs have a null id', async () => {
  const { shim, form, codeDir } = await startFunction('node', { 'app.mjs': WEB_OBJECT }, { entry: 'app.mjs', env: { GREETING: 'hi there' } });
  try {
    assert.equal(form, 'web');
    const res = await shim.request({ id: 'inv-obj' });
    assert.deepEqual(res.json(), { greeting: 'hello', env: 'hi there', processEnv: 'hi there', id: 'inv-obj', cwd: codeDir });
    assert.deepEqual(shim.lines(null), ['module loaded']);
  } finally {
    await shim.stop();
  }
});

test('ESM: top-level await (loaded with import()), and an ESM handler export', async () => {
  const files = {
    'package.json': '{"type":"module"}',
    'tla.js': 'const greeting = await Promise.resolve("awaited");\nexport default { fetch: () => new Response(greeting) };\n',
    'lambda.mjs': 'export const handler = async (event) => ({ statusCode: 200, body: "esm " + event.rawPath });\n',
  };
  for (const [entry, form, body] of [['tla.js', 'web', 'awaited'], ['lambda.mjs', 'lambda', 'esm /p']] as const) {
    const started = await startFunction('node', files, { entry });
    try {
      assert.equal(started.form, form);
      assert.equal((await started.shim.request({ path: '/p' })).text(), body);
    } finally {
      await started.shim.stop();
    }
  }
});

test('esbuild CJS bundles (what the builder produces): default fetch object and handler export', async () => {
  const { buildSync } = await import('esbuild');
  const sources = {
    'app.ts': 'class App { name = "bundled"; fetch = (req: Request) => new Response(this.name + " " + new URL(req.url).pathname); }\nexport default new App();\n',
    'lambda.ts': 'export const handler = async (event: { rawPath: string }) => "lambda " + event.rawPath;\n',
  };
  for (const [source, form, body] of [['app.ts', 'web', 'bundled /x'], ['lambda.ts', 'lambda', 'lambda /x']] as const) {
    const dir = writeFixtures(sources);
    buildSync({ entryPoints: [`${dir}/${source}`], outfile: `${dir}/__nimbus_bundle.cjs`, bundle: true, platform: 'node', format: 'cjs', logLevel: 'silent' });
    const shim = await startShim('node');
    shim.tempDirs.push(dir);
    try {
      const init = await shim.init({ codeDir: dir, entry: '__nimbus_bundle.cjs' });
      assert.equal(init.json().form, form);
      assert.equal((await shim.request({ path: '/x' })).text(), body);
    } finally {
      await shim.stop();
    }
  }
});

test('web responses: multiple set-cookie, errors, invalid results, streaming, abort, waitUntil', async () => {
  const { shim } = await startFunction('node', { 'routes.cjs': WEB_ROUTES }, { entry: 'routes.cjs', export: 'default' });
  try {
    const cookies = await shim.request({ path: '/cookies' });
    assert.deepEqual(cookies.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
    assert.equal(cookies.headers['x-other'], 'y');
    assert.equal(cookies.headers['content-length'], '1'); // a body complete at once gets a length

    const thrown = await shim.request({ path: '/throw', id: 'inv-throw' });
    assert.equal(thrown.status, 500);
    assert.equal(thrown.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
    assert.deepEqual(thrown.json(), { error: { type: 'RangeError', message: 'web boom' } });
    await shim.waitForLog((l) => l.id === 'inv-throw' && l.s === 'err' && l.m.includes('RangeError: web boom'));

    const invalid = await shim.request({ path: '/not-response' });
    assert.equal(invalid.status, 500);
    assert.equal(invalid.headers['x-nimbus-shim-error'], 'INVALID_RESPONSE');

    // The second chunk is only produced after /release: a buffering shim would never answer.
    const stream = await shim.pool.request({ method: 'GET', path: '/stream' });
    const reader = stream.body[Symbol.asyncIterator]();
    assert.equal(String((await within(reader.next(), EVENT_LIMIT_MS, 'first chunk')).value), 'first;');
    assert.equal((await shim.request({ path: '/release' })).text(), 'released');
    assert.equal(String((await reader.next()).value), 'second');

    const controller = new AbortController();
    const pending = shim.request({ path: '/abort', id: 'inv-abort', signal: controller.signal });
    await shim.waitForLog((l) => l.id === 'inv-abort' && l.m === 'waiting for abort');
    controller.abort();
    await assert.rejects(pending);
    await shim.waitForLog((l) => l.id === 'inv-abort' && l.m === 'aborted');

    assert.equal((await shim.request({ path: '/wait-until', id: 'inv-wu' })).text(), 'answered');
    await shim.waitForLog((l) => l.id === 'inv-wu' && l.m === 'background done');
  } finally {
    await shim.stop();
  }
});

test('web handlers that answer synchronously: responses, errors, streams, thenables and log tags', async () => {
  const { shim } = await startFunction('node', { 'sync.cjs': WEB_SYNC_ROUTES }, { entry: 'sync.cjs', export: 'default' });
  try {
    const ok = await shim.request({ path: '/ok', id: 'inv-sync' });
    assert.equal(ok.status, 202);
    assert.equal(ok.text(), 'sync ok');
    assert.equal(ok.headers['x-form'], 'sync');
    // The log line travels on stdout, apart from the response: wait for it rather than race it.
    await shim.waitForLog((line) => line.id === 'inv-sync', 20_000);
    assert.deepEqual(shim.lines('inv-sync'), ['sync /ok']);

    const thrown = await shim.request({ path: '/throw', id: 'inv-sync-throw' });
    assert.equal(thrown.status, 500);
    assert.equal(thrown.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
    assert.deepEqual(thrown.json(), { error: { type: 'TypeError', message: 'sync boom' } });
    await shim.waitForLog((l) => l.id === 'inv-sync-throw' && l.s === 'err' && l.m.includes('TypeError: sync boom'));

    const invalid = await shim.request({ path: '/not-response' });
    assert.equal(invalid.status, 500);
    assert.equal(invalid.headers['x-nimbus-shim-error'], 'INVALID_RESPONSE');
    assert.match(invalid.json().error.message, /returned number instead of a Response/);

    const badHeader = await shim.request({ path: '/bad-header' });
    assert.equal(badHeader.status, 500);
    assert.equal(badHeader.headers['x-nimbus-shim-error'], 'INVALID_RESPONSE');
    assert.equal(badHeader.headers['x-bad'], undefined);

    assert.equal((await shim.request({ path: '/stream' })).text(), 'ab');
    // The headers went out before the stream failed: the connection is cut, not answered wrongly.
    await assert.rejects(shim.request({ path: '/stream-error', id: 'inv-sync-stream' }));
    await shim.waitForLog((l) => l.id === 'inv-sync-stream' && l.m.includes('stream broke'));

    assert.equal((await shim.request({ path: '/thenable' })).text(), 'from thenable');
    const rejected = await shim.request({ path: '/thenable-reject' });
    assert.equal(rejected.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
    assert.equal(rejected.json().error.message, 'thenable says no');

    // The instance is still healthy after all of that.
    assert.equal((await shim.request({ path: '/ok' })).status, 202);
  } finally {
    await shim.stop();
  }
});

test('lambda: v2.0 event and context', async () => {
  const { shim, form } = await startFunction('node', { 'lambda.js': LAMBDA_ROUTES }, { entry: 'lambda.js', function: 'orders', version: 7 });
  try {
    assert.equal(form, 'lambda');
    const { event, context } = await checkLambdaEvent(shim, 'POST', 'inv-ev');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.headers.cookie, undefined);
    const rc = event.requestContext;
    assert.equal(rc.stage, '$default');
    assert.equal(rc.domainName, 'localhost');
    assert.ok(Math.abs(rc.timeEpoch - Date.now()) < 5000);
    assert.equal(context.functionName, 'orders');
    assert.equal(context.functionVersion, '7');
    assert.equal(context.memoryLimitInMB, '128');
    assert.equal(context.awsRequestId, 'inv-ev');
    assert.match(context.invokedFunctionArn, /^arn:[^:]+:lambda:[^:]+:\d{12}:function:orders$/);
    assert.equal(context.callbackWaitsForEmptyEventLoop, true);

    const binary = await shim.request({ method: 'POST', path: '/binary', body: BINARY, headers: { 'content-type': 'application/octet-stream' } });
    assert.deepEqual(binary.body, BINARY);
    const none = await shim.request({ path: '/event' });
    assert.equal(none.json().event.body, undefined);
    assert.equal(none.json().event.isBase64Encoded, false);
  } finally {
    await shim.stop();
  }
});

test('lambda: response mapping and errors', async () => {
  const { shim } = await startFunction('node', { 'lambda.js': LAMBDA_ROUTES }, { entry: 'lambda.js' });
  try {
    const text = await shim.request({ path: '/string' });
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(text.text(), 'plain text');
    for (const [path, body] of [['/object', { a: 1, nested: [true, null] }], ['/array', [1, 2, 3]], ['/number', 42]] as const) {
      const res = await shim.request({ path });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.deepEqual(res.json(), body);
    }
    await checkLambdaResponses(shim, { type: 'TypeError', message: 'lambda boom', id: 'inv-lt' });
  } finally {
    await shim.stop();
  }
});

test('lambda: callback style, and a named export', async () => {
  const { shim, form } = await startFunction('node', { 'cb.js': LAMBDA_CALLBACK }, { entry: 'cb.js', function: 'cbfn' });
  try {
    assert.equal(form, 'lambda');
    const ok = await shim.request({ path: '/' });
    assert.equal(ok.status, 203);
    assert.equal(ok.text(), 'from callback cbfn');
    const failed = await shim.request({ path: '/fail' });
    assert.equal(failed.status, 500);
    assert.equal(failed.json().error.message, 'callback failed');
  } finally {
    await shim.stop();
  }
  const named = await startFunction('node', { 'cb.js': LAMBDA_CALLBACK }, { entry: 'cb.js', export: 'other' });
  try {
    assert.equal(named.form, 'lambda');
    assert.equal((await named.shim.request({})).text(), 'named export');
  } finally {
    await named.shim.stop();
  }
});

test('the CPU report: at least the CPU a handler burnt, small for one that burns nothing, none with meterCpu off', async () => {
  await checkCpuReport('node', {
    files: {
      'burn.mjs': `export default async (request) => {
  const ms = Number(new URL(request.url).searchParams.get('ms'));
  // Until the process has used ms of CPU time, as the shim's report counts it.
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    const used = process.cpuUsage(start);
    if (used.user + used.system >= ms * 1000) break;
    for (let i = 0; i < 1000; i++) x += Math.sqrt(x + 1);
  }
  return new Response(String(x >= 0));
};`,
    },
    entry: 'burn.mjs',
    burnPath: (ms) => `/?ms=${ms}`,
  });
});

test('the CPU report counts work a handler hands to the thread pool (hashing), not only the main thread', async () => {
  const { shim } = await startFunction('node', {
    'pool.mjs': `import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
const hash = promisify(pbkdf2);
export default async () => {
  // The process's CPU time across the await, as the handler itself sees it: the hashing runs on a
  // thread of libuv's pool while the main thread waits.
  const start = process.cpuUsage();
  await hash('secret', 'salt', 50_000, 32, 'sha512');
  const used = process.cpuUsage(start);
  return new Response(String(used.user + used.system));
};`,
  }, { entry: 'pool.mjs' });
  try {
    const res = await shim.request({ path: '/', id: 'pool' });
    assert.equal(res.status, 200, res.text());
    const seen = Number(res.text());
    const reported = Number(res.headers['x-nimbus-cpu-us']);
    assert.ok(seen >= 5_000, `the hashing used ${seen} µs of CPU`);
    assert.ok(reported >= seen - 1_000, `reported ${reported} µs for a handler that saw ${seen} µs of its process's CPU go by`);
  } finally {
    await shim.stop();
  }
});
