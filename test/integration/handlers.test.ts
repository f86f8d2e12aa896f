import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, deploy, EXAMPLES, installExample, invoke, startPlatform, type TestPlatform, writeFunction } from './harness.js';

// Every byte value, so any text decoding on the way would show.
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const WEB_ECHO = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const body = new Uint8Array(await request.arrayBuffer());
    return new Response(body, {
      status: 201,
      headers: {
        'x-echo-method': request.method,
        'x-echo-path': url.pathname,
        'x-echo-query': url.search,
        'x-echo-custom': request.headers.get('x-custom') ?? '',
        'x-echo-env': env.GREETING ?? '',
        'content-type': 'application/octet-stream',
      },
    });
  },
};`;

const LAMBDA_ECHO = `exports.handler = async (event, context) => ({
  statusCode: 201,
  headers: {
    'x-echo-method': event.requestContext.http.method,
    'x-echo-path': event.rawPath,
    'x-echo-query': event.rawQueryString,
    'x-echo-custom': event.headers['x-custom'] ?? '',
    'x-echo-env': process.env.GREETING ?? '',
    'content-type': 'application/octet-stream',
  },
  body: event.body ?? '',
  isBase64Encoded: event.isBase64Encoded,
});`;

const PYTHON_ECHO = `import os

def handler(event, context):
    return {
        "statusCode": 201,
        "headers": {
            "x-echo-method": event["requestContext"]["http"]["method"],
            "x-echo-path": event["rawPath"],
            "x-echo-query": event["rawQueryString"],
            "x-echo-custom": event["headers"].get("x-custom", ""),
            "x-echo-env": os.environ.get("GREETING", ""),
            "content-type": "application/octet-stream",
        },
        "body": event.get("body", ""),
        "isBase64Encoded": event.get("isBase64Encoded", False),
    }
`;

describe('handler forms and runtimes', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
  });
  after(() => platform.close());

  const forms: Array<[string, Record<string, string>, string]> = [
    ['web-echo', { 'index.js': WEB_ECHO }, '?x=1&y=2&x=3'],
    ['lambda-echo', { 'index.cjs': LAMBDA_ECHO }, 'x=1&y=2&x=3'],
    ['python-echo', { 'handler.py': PYTHON_ECHO }, 'x=1&y=2&x=3'],
  ];
  for (const [name, files, expectedQuery] of forms) {
    test(`${name}: method, sub-path, query, headers, env and a binary body round-trip`, async () => {
      const fn = await deploy(platform.url, name, await writeFunction(files), { env: { GREETING: 'hi there' } });
      assert.equal(fn.runtime, name.startsWith('python') ? 'python' : 'node');
      const res = await invoke(platform.url, `${name}/a/b%20c?x=1&y=2&x=3`, { method: 'PATCH', headers: { 'x-custom': 'custom value' }, body: BINARY });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers['x-echo-method'], 'PATCH');
      assert.equal(res.headers['x-echo-path'], '/a/b%20c');
      assert.equal(res.headers['x-echo-query'], expectedQuery);
      assert.equal(res.headers['x-echo-custom'], 'custom value');
      assert.equal(res.headers['x-echo-env'], 'hi there');
      assert.deepEqual(res.body, BINARY);
      assert.match(String(res.headers['x-nimbus-invocation-id']), /^[0-9a-f-]{36}$/);
    });
  }

  test('examples/hello: Web-standard object handler', async () => {
    await deploy(platform.url, 'hello', `${EXAMPLES}/hello`);
    const res = await invoke(platform.url, 'hello');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello');
  });

  test('examples/web-fetch: request, env and ctx reach the handler', async () => {
    await deploy(platform.url, 'web-fetch', `${EXAMPLES}/web-fetch`, { env: { GREETING: 'howdy' } });
    const res = await invoke(platform.url, 'web-fetch/some/path?q=1', { method: 'POST', body: 'abc' });
    const answer = JSON.parse(res.text);
    assert.equal(answer.method, 'POST');
    assert.equal(answer.path, '/some/path');
    assert.deepEqual(answer.query, { q: '1' });
    assert.equal(answer.bodyLength, 3);
    assert.equal(answer.greeting, 'howdy');
    assert.equal(answer.hasWaitUntil, true);
    assert.equal(answer.headers['x-forwarded-prefix'], '/fn/web-fetch');
  });

  test('examples/lambda-node: API Gateway v2.0 event and context', async () => {
    await deploy(platform.url, 'lambda-node', `${EXAMPLES}/lambda-node`);
    const res = await invoke(platform.url, 'lambda-node/greet?name=ada');
    const answer = JSON.parse(res.text);
    assert.equal(answer.message, 'hello, ada');
    assert.equal(answer.path, '/greet');
    assert.equal(answer.requestId, res.headers['x-nimbus-invocation-id']);
  });

  test('examples/typescript: TypeScript with an npm dependency is bundled at deploy', async () => {
    const fn = await deploy(platform.url, 'typescript', installExample('typescript'));
    assert.equal(fn.handler, 'index.ts');
    const res = await invoke(platform.url, 'typescript/ticket?size=20');
    const answer = JSON.parse(res.text);
    assert.equal(answer.id.length, 20);
    assert.equal(answer.path, '/ticket');
  });

  test('examples/hono: a Hono app runs unmodified', async () => {
    await deploy(platform.url, 'hono', installExample('hono'));
    assert.equal((await invoke(platform.url, 'hono')).text, 'Hono on Nimbus');
    assert.deepEqual(JSON.parse((await invoke(platform.url, 'hono/hello/bob')).text), { message: 'hello, bob' });
    const echo = await invoke(platform.url, 'hono/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.deepEqual(JSON.parse(echo.text), { echo: { a: 1 } });
  });

  test('examples/python: Lambda-style Python handler', async () => {
    const fn = await deploy(platform.url, 'python', `${EXAMPLES}/python`);
    assert.equal(fn.runtime, 'python');
    const answer = JSON.parse((await invoke(platform.url, 'python/x?name=guido')).text);
    assert.equal(answer.message, 'hello, guido');
    assert.equal(answer.path, '/x');
  });

  test('single-file deploys: a TypeScript file and a Python file', async () => {
    await deploy(platform.url, 'single-ts', { file: 'fn.ts', content: 'export default (req: Request): Response => new Response("typed " + req.method);' });
    assert.equal((await invoke(platform.url, 'single-ts')).text, 'typed GET');
    await deploy(platform.url, 'single-py', { file: 'handler.py', content: 'def handler(event, context):\n    return "plain text"\n' });
    const res = await invoke(platform.url, 'single-py');
    assert.equal(res.text, 'plain text');
    assert.match(String(res.headers['content-type']), /^text\/plain/);
  });

  test('the platform environment does not reach functions', async () => {
    process.env.NIMBUS_TEST_SECRET = 'platform-only';
    try {
      await deploy(platform.url, 'env-probe', { file: 'index.js', content: 'export default () => Response.json(process.env);' }, { env: { MINE: '1' } });
      const env = JSON.parse((await invoke(platform.url, 'env-probe')).text) as Record<string, string>;
      assert.equal(env.MINE, '1');
      assert.equal(env.NIMBUS_TEST_SECRET, undefined);
      assert.equal(env.NODE_EXTRA_CA_CERTS, undefined);
    } finally {
      delete process.env.NIMBUS_TEST_SECRET;
    }
  });

  test('get reports runtime, settings, url and instances', async () => {
    const res = await api(platform.url, 'GET', '/api/v1/functions/hello');
    assert.equal(res.status, 200);
    assert.equal(res.json!.runtime, 'node');
    assert.equal(res.json!.timeout, 30);
    assert.equal(res.json!.memory, 256);
    assert.equal(res.json!.url, `${platform.url}/fn/hello`);
    assert.equal(res.json!.instances, 1);
  });
});
