/**
 * Node apps as they are written for servers, deployed unmodified: Express (exported, and calling
 * listen()), Koa, Fastify (exported, and calling listen()), and OpenFaaS template handlers (node, python).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, deploy, EXAMPLES, installExample, invoke, packFolder, ROOT, startPlatform, upload, type TestPlatform } from './harness.js';

const FRAMEWORKS = join(ROOT, 'test', 'integration', 'fixtures', 'frameworks');

describe('node apps written for servers run unmodified', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
  });
  after(async () => {
    await platform?.close();
  });

  test('examples/express: the exported app, and the same app calling listen(PORT)', async () => {
    const dir = installExample('express');
    const exported = await deploy(platform.url, 'express', dir, { env: { GREETING: 'hi' } });
    assert.equal(exported.handler, 'app.js');
    await deploy(platform.url, 'express-server', dir, { handler: 'server.js' });
    for (const name of ['express', 'express-server']) {
      const home = await invoke(platform.url, name);
      assert.equal(home.status, 200, home.text);
      assert.equal(home.text, 'Express on Nimbus');
      assert.deepEqual(JSON.parse((await invoke(platform.url, `${name}/hello/bob`)).text), { message: 'hello, bob' });
      const echo = await invoke(platform.url, `${name}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      assert.equal(echo.status, 201);
      assert.deepEqual(JSON.parse(echo.text), { echo: { a: 1 } });
      // Express answers its own 404s, as on any server.
      assert.equal((await invoke(platform.url, `${name}/nowhere`)).status, 404);
    }
    assert.deepEqual(JSON.parse((await invoke(platform.url, 'express/env')).text), { greeting: 'hi' });
    const logs = await api(platform.url, 'GET', '/api/v1/functions/express-server/logs');
    assert.ok(JSON.stringify(logs.json).includes('listening on port 8080'), JSON.stringify(logs.json));
  });

  test('Koa and Fastify apps, exported and listening', async () => {
    if (!existsSync(join(FRAMEWORKS, 'node_modules'))) {
      execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: FRAMEWORKS, stdio: 'ignore' });
    }
    // One upload, three functions: the package is stored once by its hash.
    const uploaded = await upload(platform.url, await packFolder(FRAMEWORKS));
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.json));
    for (const [name, handler] of [['koa', 'koa.js'], ['fastify', 'fastify.js'], ['fastify-listen', 'fastify-listen.js']]) {
      const res = await api(platform.url, 'PUT', `/api/v1/functions/${name}`, { package: uploaded.json.sha256, handler });
      assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.json));
    }
    assert.deepEqual(JSON.parse((await invoke(platform.url, 'koa/a/b?x=1')).text), { framework: 'koa', method: 'GET', path: '/a/b', query: { x: '1' } });
    assert.deepEqual(JSON.parse((await invoke(platform.url, 'fastify/hello/ada')).text), { framework: 'fastify', hello: 'ada' });
    const echo = await invoke(platform.url, 'fastify/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"b":2}' });
    assert.equal(echo.status, 201);
    assert.deepEqual(JSON.parse(echo.text), { echo: { b: 2 } });
    assert.deepEqual(JSON.parse((await invoke(platform.url, 'fastify-listen')).text), { framework: 'fastify', listening: 8080 });
  });

  test('examples/openfaas-node: an OpenFaaS template handler', async () => {
    await deploy(platform.url, 'greeter', join(EXAMPLES, 'openfaas-node'));
    const res = await invoke(platform.url, 'greeter?lang=en', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"ada"}' });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(JSON.parse(res.text), { greeting: 'hello, ada', query: { lang: 'en' } });
    const refused = await invoke(platform.url, 'greeter', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 400);
    assert.equal(refused.text, 'a JSON body with a "name" string, please');
  });

  test('examples/openfaas-python: an OpenFaaS python3-http handler, detected at deploy', async () => {
    const deployed = await deploy(platform.url, 'greeter-py', join(EXAMPLES, 'openfaas-python'));
    assert.equal(deployed.runtime, 'python');
    assert.equal(deployed.handler, 'handler.handle');
    const res = await invoke(platform.url, 'greeter-py?lang=en', { method: 'POST', body: '{"name":"ada"}' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers['x-served-by'], 'nimbus');
    assert.deepEqual(JSON.parse(res.text), { greeting: 'hello, ada', lang: 'en' });
    assert.equal((await invoke(platform.url, 'greeter-py', { method: 'POST', body: 'nope' })).status, 400);
  });
});
