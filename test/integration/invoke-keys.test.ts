/**
 * Invocation auth against a real platform: public functions, functions with auth `key`, their
 * keys' lifecycle, and the default auth of a platform that is reachable beyond loopback.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, deploy, invoke, startPlatform, type TestPlatform } from './harness.js';

/** Answers the request headers it received, so tests can see what was forwarded. */
const ECHO = { file: 'index.js', content: 'export default (req) => Response.json(Object.fromEntries(req.headers))' };

async function createKey(platform: TestPlatform, fn: string, name?: string): Promise<{ id: string; key: string }> {
  const res = await api(platform.url, 'POST', `/api/v1/functions/${fn}/keys`, name === undefined ? undefined : { name });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return { id: res.json!.id, key: res.json!.key };
}

const withKey = (key: string) => ({ headers: { 'x-nimbus-key': key } });

describe('invoke keys', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
    await deploy(platform.url, 'open', ECHO);
    await deploy(platform.url, 'locked', ECHO, { auth: 'key' });
    await deploy(platform.url, 'other', ECHO, { auth: 'key' });
  });
  after(() => platform.close());

  test('on loopback, functions are public by default and need no key', async () => {
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/open')).json!.auth, 'public');
    assert.equal((await invoke(platform.url, 'open')).status, 200);
    // A key sent to a public function is ignored, and not forwarded either.
    const res = await invoke(platform.url, 'open', withKey('nmk_whatever'));
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text)['x-nimbus-key'], undefined);
  });

  test('a function with auth key: 401 without a key, 403 with a wrong one, 200 with its own', async () => {
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/locked')).json!.auth, 'key');
    const none = await invoke(platform.url, 'locked');
    assert.equal(none.status, 401);
    assert.equal(none.headers['x-nimbus-error'], 'INVOKE_KEY_REQUIRED');
    assert.equal(none.headers['www-authenticate'], 'NimbusKey header="x-nimbus-key"');
    assert.match(JSON.parse(none.text).error.message, /nimbus keys create locked/);
    assert.ok(none.headers['x-nimbus-invocation-id']);

    const mine = await createKey(platform, 'locked', 'ci');
    const theirs = await createKey(platform, 'other');
    assert.match(mine.key, /^nmk_[A-Za-z0-9_-]{43}$/);
    for (const wrong of [`nmk_${'A'.repeat(43)}`, 'garbage', theirs.key, mine.key.toUpperCase()]) {
      const res = await invoke(platform.url, 'locked', withKey(wrong));
      assert.equal(res.status, 403, wrong);
      assert.equal(res.headers['x-nimbus-error'], 'INVOKE_KEY_INVALID');
    }
    // A management token is not an invoke key.
    assert.equal((await invoke(platform.url, 'locked', withKey(platform.token))).status, 403);

    const ok = await invoke(platform.url, 'locked/sub?q=1', { headers: { 'x-nimbus-key': mine.key, authorization: 'Bearer for-the-function' } });
    assert.equal(ok.status, 200, ok.text);
    const seen = JSON.parse(ok.text) as Record<string, string>;
    assert.equal(seen['x-nimbus-key'], undefined, 'the key is not forwarded to the function');
    assert.ok(!ok.text.includes(mine.key));
    assert.equal(seen['authorization'], 'Bearer for-the-function', "the function's own Authorization header passes untouched");
    assert.equal((await invoke(platform.url, 'other', withKey(theirs.key))).status, 200);
  });

  test('keys are listed without their values; a revoked key is refused at once, others keep working', async () => {
    const first = await createKey(platform, 'other', 'first');
    const second = await createKey(platform, 'other', 'second');
    assert.equal((await invoke(platform.url, 'other', withKey(first.key))).status, 200);
    const list = await api(platform.url, 'GET', '/api/v1/functions/other/keys');
    assert.ok(!JSON.stringify(list.json).includes(first.key));
    for (const k of list.json!.keys as object[]) assert.deepEqual(Object.keys(k).sort(), ['createdAt', 'function', 'id', 'name', 'revoked', 'revokedAt']);
    assert.deepEqual((list.json!.keys as Array<{ name: string }>).map((k) => k.name), ['default', 'first', 'second']);

    assert.equal((await api(platform.url, 'DELETE', `/api/v1/functions/other/keys/${first.id}`)).status, 204);
    assert.equal((await invoke(platform.url, 'other', withKey(first.key))).headers['x-nimbus-error'], 'INVOKE_KEY_INVALID');
    assert.equal((await invoke(platform.url, 'other', withKey(second.key))).status, 200);
    const revoked = ((await api(platform.url, 'GET', '/api/v1/functions/other/keys')).json!.keys as Array<{ id: string; revoked: boolean }>).find((k) => k.id === first.id);
    assert.equal(revoked?.revoked, true);

    assert.equal((await api(platform.url, 'DELETE', `/api/v1/functions/locked/keys/${second.id}`)).json!.error.code, 'INVOKE_KEY_NOT_FOUND', "another function's key id");
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/functions/other/keys/key_nope')).json!.error.code, 'INVOKE_KEY_NOT_FOUND');
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/nope/keys')).json!.error.code, 'FUNCTION_NOT_FOUND');
    assert.equal((await api(platform.url, 'POST', '/api/v1/functions/nope/keys', {})).json!.error.code, 'FUNCTION_NOT_FOUND');
    assert.equal((await api(platform.url, 'POST', '/api/v1/functions/other/keys', { label: 'x' })).json!.error.code, 'INVALID_REQUEST');
  });

  test('auth survives redeploys unless changed; switching to public opens the function', async () => {
    await deploy(platform.url, 'switch', ECHO, { auth: 'key' });
    const { key } = await createKey(platform, 'switch');
    const redeployed = await deploy(platform.url, 'switch', ECHO, { memory: 128 });
    assert.equal(redeployed.auth, 'key', 'a redeploy without auth keeps it');
    assert.equal((await invoke(platform.url, 'switch')).status, 401);
    const opened = await deploy(platform.url, 'switch', ECHO, { auth: 'public' });
    assert.equal(opened.auth, 'public');
    assert.equal((await invoke(platform.url, 'switch')).status, 200);
    await deploy(platform.url, 'switch', ECHO, { auth: 'key' });
    assert.equal((await invoke(platform.url, 'switch', withKey(key))).status, 200, 'keys outlive auth changes');
    const bad = await api(platform.url, 'PUT', '/api/v1/functions/switch', { package: redeployed.package, auth: 'password' });
    assert.equal(bad.json!.error.details.field, 'auth');
  });

  test("removing a function removes its keys: a new function of that name does not take them", async () => {
    await deploy(platform.url, 'reborn', ECHO, { auth: 'key' });
    const { key } = await createKey(platform, 'reborn');
    assert.equal((await invoke(platform.url, 'reborn', withKey(key))).status, 200);
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/functions/reborn')).status, 204);
    await deploy(platform.url, 'reborn', ECHO, { auth: 'key' });
    assert.deepEqual((await api(platform.url, 'GET', '/api/v1/functions/reborn/keys')).json!.keys, []);
    assert.equal((await invoke(platform.url, 'reborn', withKey(key))).status, 403);
  });
});

describe('a platform whose functions default to auth key (as on a non-loopback --host)', () => {
  let platform: TestPlatform;
  before(async () => {
    // defaultAuth 'key' is what a non-loopback host gets (see the unit test of defaultInvokeAuth),
    // without binding this test to every interface.
    platform = await startPlatform({ defaultAuth: 'key' });
    assert.equal(platform.server.defaultAuth, 'key');
  });
  after(() => platform.close());

  test('functions deployed without auth need a key; --auth public opens one', async () => {
    const fn = await deploy(platform.url, 'implicit', ECHO);
    assert.equal(fn.auth, 'key', 'get shows the effective auth');
    assert.equal((await invoke(platform.url, 'implicit')).status, 401);
    const { key } = await createKey(platform, 'implicit');
    assert.equal((await invoke(platform.url, 'implicit', withKey(key))).status, 200);
    await deploy(platform.url, 'explicit', ECHO, { auth: 'public' });
    assert.equal((await invoke(platform.url, 'explicit')).status, 200);
  });

  test('the default is not stored with the function: it follows the platform', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-default-auth-'));
    try {
      const keyed = await startPlatform({ dataDir, keepData: true, defaultAuth: 'key' });
      await deploy(keyed.url, 'follows', ECHO);
      await deploy(keyed.url, 'pinned', ECHO, { auth: 'key' });
      await keyed.close();
      const loopback = await startPlatform({ dataDir, keepData: true });
      try {
        assert.equal((await api(loopback.url, 'GET', '/api/v1/functions/follows')).json!.auth, 'public');
        assert.equal((await invoke(loopback.url, 'follows')).status, 200);
        assert.equal((await api(loopback.url, 'GET', '/api/v1/functions/pinned')).json!.auth, 'key');
        assert.equal((await invoke(loopback.url, 'pinned')).status, 401);
      } finally {
        await loopback.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
