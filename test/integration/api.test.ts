import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { api, authHeaders, deploy, invoke, startPlatform, type TestPlatform, waitFor } from './harness.js';

const LOGGER = {
  file: 'index.js',
  content: `console.log('loading module');
export default async (req) => {
  const tag = new URL(req.url).searchParams.get('tag');
  console.log('start', tag);
  await new Promise((r) => setTimeout(r, 50));
  console.error('end', tag);
  return new Response(tag);
};`,
};

describe('management API', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
  });
  after(() => platform.close());

  test('health and OpenAPI document', async () => {
    assert.deepEqual((await api(platform.url, 'GET', '/healthz')).json, { status: 'ok' });
    const doc = await api(platform.url, 'GET', '/api/v1/openapi.json');
    assert.equal(doc.json!.openapi, '3.1.0');
    assert.ok(doc.json!.paths['/api/v1/functions/{name}'].put);
    assert.ok(doc.json!.components.schemas.FunctionConfig.properties.timeout);
  });

  test('create, update, list, get and delete', async () => {
    const created = await request(`${platform.url}/api/v1/functions/crud`, {
      method: 'PUT',
      headers: { ...authHeaders(platform.url), 'content-type': 'application/json' },
      body: JSON.stringify({ package: (await uploadHello()).sha256, timeout: '10s', env: { A: '1' } }),
    });
    assert.equal(created.statusCode, 201);
    await created.body.dump();
    const updated = await deploy(platform.url, 'crud', { file: 'index.js', content: 'export default () => new Response("two")' }, { memory: 512 });
    assert.equal(updated.version, 2);
    assert.equal(updated.timeout, 10, 'settings not given keep their values');
    assert.deepEqual(updated.env, { A: '1' });
    assert.equal(updated.memory, 512);
    const list = await api(platform.url, 'GET', '/api/v1/functions');
    assert.ok(list.json!.functions.some((f: { name: string }) => f.name === 'crud'));
    assert.equal((await invoke(platform.url, 'crud')).text, 'two');
    const removed = await request(`${platform.url}/api/v1/functions/crud`, { method: 'DELETE', headers: authHeaders(platform.url) });
    assert.equal(removed.statusCode, 204);
    await removed.body.dump();
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/crud')).status, 404);
    assert.equal((await invoke(platform.url, 'crud')).headers['x-nimbus-error'], 'FUNCTION_NOT_FOUND');
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/functions/crud')).status, 404);
  });

  async function uploadHello() {
    const res = await request(`${platform.url}/api/v1/packages`, {
      method: 'POST',
      headers: { ...authHeaders(platform.url), 'x-nimbus-filename': 'index.js' },
      body: 'export default () => new Response("one")',
    });
    assert.equal(res.statusCode, 201);
    return (await res.body.json()) as { sha256: string };
  }

  test('logs are tagged with the invocation that wrote them', async () => {
    await deploy(platform.url, 'chatty', LOGGER);
    const [a, b] = await Promise.all([invoke(platform.url, 'chatty?tag=a'), invoke(platform.url, 'chatty?tag=b')]);
    const ids = { a: a.headers['x-nimbus-invocation-id'], b: b.headers['x-nimbus-invocation-id'] };
    let logs: Array<{ invocationId: string | null; message: string; stream: string; function: string }> = [];
    await waitFor(async () => {
      logs = (await api(platform.url, 'GET', '/api/v1/functions/chatty/logs')).json!.logs;
      return logs.length >= 5;
    }, 3000, 'five log lines');
    assert.ok(logs.some((l) => l.message === 'loading module' && l.invocationId === null));
    for (const tag of ['a', 'b'] as const) {
      assert.ok(logs.some((l) => l.message === `start ${tag}` && l.invocationId === ids[tag] && l.stream === 'stdout'), `start ${tag}`);
      assert.ok(logs.some((l) => l.message === `end ${tag}` && l.invocationId === ids[tag] && l.stream === 'stderr'), `end ${tag}`);
    }
    const recent = await api(platform.url, 'GET', '/api/v1/functions/chatty/logs?since=1h&limit=2');
    assert.equal(recent.json!.logs.length, 2);
    const bad = await api(platform.url, 'GET', '/api/v1/functions/chatty/logs?since=yesterday-ish');
    assert.equal(bad.json!.error.details.field, 'since');
  });

  test('logs follow streams new lines as NDJSON', async () => {
    await deploy(platform.url, 'followed', LOGGER);
    const controller = new AbortController();
    const res = await request(`${platform.url}/api/v1/functions/followed/logs?follow=true`, { signal: controller.signal, headers: authHeaders(platform.url) });
    assert.match(String(res.headers['content-type']), /ndjson/);
    const seen: string[] = [];
    const reading = (async () => {
      let buffered = '';
      try {
        for await (const chunk of res.body) {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) seen.push((JSON.parse(line) as { message: string }).message);
        }
      } catch {
        // aborted
      }
    })();
    await invoke(platform.url, 'followed?tag=live');
    await waitFor(() => seen.includes('end live'), 20_000, 'followed line');
    controller.abort();
    await reading;
  });
});
