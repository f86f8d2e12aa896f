/** Per-function hosts: `<name>.<domain>:<port>` invokes the function at its own root. */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { functionFromHost } from '../../src/http/function-host.js';
import { api, deploy, startPlatform, writeFunction, type TestPlatform } from './harness.js';

test('functionFromHost reads <function>.<domain>[:port], and nothing else', () => {
  assert.equal(functionFromHost('hello.localhost:8080', 'localhost'), 'hello');
  assert.equal(functionFromHost('Hello.LocalHost', 'localhost'), 'hello');
  assert.equal(functionFromHost('api-v2.fn.example.com.', 'fn.example.com'), 'api-v2');
  assert.equal(functionFromHost('localhost:8080', 'localhost'), undefined);
  assert.equal(functionFromHost('127.0.0.1:8080', 'localhost'), undefined);
  assert.equal(functionFromHost('a.b.localhost', 'localhost'), undefined, 'not a function name');
  assert.equal(functionFromHost('hello.example.org', 'localhost'), undefined);
  assert.equal(functionFromHost('hello.localhost', ''), undefined, 'turned off');
  assert.equal(functionFromHost(undefined, 'localhost'), undefined);
});

/** A request to the platform with a chosen Host header (no DNS needed). */
function get(url: string, host: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('function hosts', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
    const dir = await writeFunction({ 'index.js': 'export default (request) => new Response(request.url);' });
    await deploy(platform.url, 'hello', dir);
  });
  after(async () => {
    await platform?.close();
  });

  test('hello.localhost:<port>/a/b?c=1 reaches hello at /a/b?c=1, with its own absolute URL', async () => {
    const { port } = new URL(platform.url);
    const res = await get(platform.url, `hello.localhost:${port}`, '/a/b?c=1');
    assert.equal(res.status, 200);
    assert.equal(res.body, `http://hello.localhost:${port}/a/b?c=1`);
    // /fn/<name> on the platform's own host is unchanged.
    assert.equal((await get(platform.url, `127.0.0.1:${port}`, '/fn/hello/x')).body, `http://127.0.0.1:${port}/x`);
    // On a function's host every path is the function's, the API's too.
    assert.equal((await get(platform.url, `hello.localhost:${port}`, '/api/v1/functions')).body, `http://hello.localhost:${port}/api/v1/functions`);
  });

  test('an unknown function host is FUNCTION_NOT_FOUND; the view shows the host URL', async () => {
    const { port } = new URL(platform.url);
    const res = await get(platform.url, `nope.localhost:${port}`, '/');
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-nimbus-error'], 'FUNCTION_NOT_FOUND');
    const view = await api(platform.url, 'GET', '/api/v1/functions/hello');
    assert.equal(view.json?.hostUrl, `http://hello.localhost:${port}/`);
  });
});
