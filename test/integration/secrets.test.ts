import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deploy, invoke, startPlatform, type TestPlatform, upload } from './harness.js';
import { apiCall, setSecret } from './http.js';
import { END_OF_BODY, heldInvocation, RawConnection } from './raw-connection.js';

/**
 * Answers its secrets (and an id per process, to tell instances apart). `/slow` answers `started;`
 * at once and the rest only once the client has sent its whole body, so a test can hold it open.
 */
const SHOW_ENV = {
  file: 'index.js',
  content: `const INSTANCE = crypto.randomUUID();
const show = () => JSON.stringify({ token: process.env.API_TOKEN ?? null, other: process.env.OTHER ?? null, greeting: process.env.GREETING ?? null, pid: INSTANCE });
export default async (req) => {
  if (new URL(req.url).pathname !== '/slow') return new Response(show(), { headers: { 'content-type': 'application/json' } });
  const encoder = new TextEncoder();
  return new Response(new ReadableStream({
    async start(c) {
      c.enqueue(encoder.encode('started;'));
      await req.arrayBuffer();
      c.enqueue(encoder.encode(show()));
      c.close();
    },
  }));
};`,
};

const PY_SHOW_ENV = {
  file: 'handler.py',
  content: `import os\ndef handler(event, context):\n    return {"statusCode": 200, "body": os.environ.get("API_TOKEN", "missing")}\n`,
};

describe('secrets', () => {
  let platform: TestPlatform;
  let sha: string;
  const url = () => platform.url;
  const shown = async (path = 'env') => JSON.parse((await invoke(url(), path)).text) as { token: string | null; other: string | null; greeting: string | null; pid: number };

  before(async () => {
    platform = await startPlatform();
    sha = (await upload(platform.url, Buffer.from(SHOW_ENV.content), SHOW_ENV.file)).json.sha256;
  });
  after(() => platform.close());

  test('set creates (201) then replaces (200, next version); list and get answer metadata only', async () => {
    const created = await setSecret(url(), 'META', 'first value');
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.json).sort(), ['createdAt', 'functions', 'name', 'updatedAt', 'version']);
    assert.equal(created.json.version, 1);
    const replaced = await apiCall(url(), 'PUT', '/api/v1/secrets/META', { json: { value: 'second value' } });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.json.version, 2);
    assert.equal(replaced.json.createdAt, created.json.createdAt);
    const one = await apiCall(url(), 'GET', '/api/v1/secrets/META');
    assert.deepEqual(one.json, replaced.json);
    const list = await apiCall(url(), 'GET', '/api/v1/secrets');
    assert.deepEqual(list.json.secrets.find((s: { name: string }) => s.name === 'META'), replaced.json);
    assert.doesNotMatch(list.text + one.text + replaced.text + created.text, /first value|second value/);
    assert.equal((await apiCall(url(), 'DELETE', '/api/v1/secrets/META')).status, 204);
    assert.equal((await apiCall(url(), 'GET', '/api/v1/secrets/META')).json.error.code, 'SECRET_NOT_FOUND');
    const again = await apiCall(url(), 'DELETE', '/api/v1/secrets/META');
    assert.equal(again.status, 404);
    assert.equal(again.headers['x-nimbus-error'], 'SECRET_NOT_FOUND');
  });

  test('a deployed function gets its secrets as env vars, kept on updates that do not name them', async () => {
    await setSecret(url(), 'API_TOKEN', 'tok-1');
    await setSecret(url(), 'OTHER', 'other-1');
    const fn = await deploy(url(), 'env', SHOW_ENV, { secrets: ['API_TOKEN', 'OTHER'], env: { GREETING: 'hi' } });
    assert.deepEqual(fn.secrets, ['API_TOKEN', 'OTHER']);
    const env = await shown();
    assert.deepEqual([env.token, env.other, env.greeting], ['tok-1', 'other-1', 'hi']);
    const updated = await apiCall(url(), 'PUT', '/api/v1/functions/env', { json: { package: sha, memory: 128 } });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(updated.json.secrets, ['API_TOKEN', 'OTHER'], 'settings not given keep their values');
    assert.equal((await shown()).token, 'tok-1');
    const listed = (await apiCall(url(), 'GET', '/api/v1/secrets')).json.secrets;
    assert.deepEqual(listed.map((s: { name: string; functions: string[] }) => [s.name, s.functions]), [['API_TOKEN', ['env']], ['OTHER', ['env']]]);
  });

  test('unknown secrets and clashes with env are refused naming the field, and change nothing', async () => {
    const before = (await apiCall(url(), 'GET', '/api/v1/functions/env')).json;
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ secrets: ['NOPE'] }, 'UNKNOWN_SECRET', 'secrets'],
      [{ secrets: ['API_TOKEN'], env: { API_TOKEN: 'x' } }, 'INVALID_REQUEST', 'secrets'],
      [{ env: { OTHER: 'x' } }, 'INVALID_REQUEST', 'secrets'],
      [{ secrets: ['bad-name'] }, 'INVALID_REQUEST', 'secrets.0'],
      [{ secrets: ['NIMBUS_SOCKET'] }, 'INVALID_REQUEST', 'secrets.0'],
      [{ secrets: 'API_TOKEN' }, 'INVALID_REQUEST', 'secrets'],
      [{ secrets: ['API_TOKEN', 'API_TOKEN'] }, 'INVALID_REQUEST', 'secrets'],
    ];
    for (const [config, code, field] of cases) {
      const res = await apiCall(url(), 'PUT', '/api/v1/functions/env', { json: { package: sha, ...config } });
      assert.equal(res.status, 400, JSON.stringify(config));
      assert.equal(res.json.error.code, code, JSON.stringify(config));
      assert.equal(res.json.error.details.field, field, JSON.stringify(config));
    }
    const created = await apiCall(url(), 'PUT', '/api/v1/functions/never', { json: { package: sha, secrets: ['NOPE'] } });
    assert.equal(created.json.error.code, 'UNKNOWN_SECRET');
    assert.equal(created.json.error.details.secret, 'NOPE');
    assert.equal((await apiCall(url(), 'GET', '/api/v1/functions/never')).status, 404);
    const after = (await apiCall(url(), 'GET', '/api/v1/functions/env')).json;
    assert.equal(after.version, before.version);
  });

  test('replacing a value replaces running instances: in-flight requests finish, the next one sees the new value', async () => {
    const first = await shown();
    const slow = new RawConnection(url());
    try {
      slow.write(heldInvocation('env/slow'));
      await slow.waitFor(/started;/);
      const set = await setSecret(url(), 'API_TOKEN', 'tok-2');
      assert.equal(set.status, 200);
      assert.deepEqual(set.json.functions, ['env']);
      const next = await shown();
      assert.equal(next.token, 'tok-2');
      assert.notEqual(next.pid, first.pid, 'a new instance');
      slow.write(END_OF_BODY);
      await slow.waitFor(/"token":"tok-1".*\r\n0\r\n\r\n$/s);
      assert.match(slow.text(), /^HTTP\/1\.1 200 /, 'the running request was not cut off');
    } finally {
      slow.destroy();
    }
  });

  test('a used secret cannot be removed; after deploying without it, it can', async () => {
    const refused = await apiCall(url(), 'DELETE', '/api/v1/secrets/OTHER');
    assert.equal(refused.status, 409);
    assert.equal(refused.headers['x-nimbus-error'], 'SECRET_IN_USE');
    assert.deepEqual(refused.json.error.details.functions, ['env']);
    assert.match(refused.json.error.message, /used by env/);
    const fewer = await apiCall(url(), 'PUT', '/api/v1/functions/env', { json: { package: sha, secrets: ['API_TOKEN'] } });
    assert.deepEqual(fewer.json.secrets, ['API_TOKEN']);
    assert.equal((await shown()).other, null);
    assert.equal((await apiCall(url(), 'DELETE', '/api/v1/secrets/OTHER')).status, 204);
    const none = await apiCall(url(), 'PUT', '/api/v1/functions/env', { json: { package: sha, secrets: [] } });
    assert.deepEqual(none.json.secrets, []);
    assert.equal((await shown()).token, null);
  });

  test('python functions get secrets too', async () => {
    await deploy(url(), 'py-env', PY_SHOW_ENV, { secrets: ['API_TOKEN'] });
    const res = await invoke(url(), 'py-env');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, 'tok-2');
  });
});
