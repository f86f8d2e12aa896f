/**
 * Access control of the management API against a real platform: which scope may do what, the
 * answers when it may not, revocation, and that only hashes of tokens are kept.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { hashSecret } from '../../src/auth/credentials.js';
import { api, deploy, startPlatform, type TestPlatform } from './harness.js';

const HELLO = { file: 'index.js', content: 'export default () => new Response("hi")' };
type Scope = 'read' | 'deploy' | 'admin';

describe('management API access control', () => {
  let platform: TestPlatform;
  const tokens: Record<Scope, string> = { read: '', deploy: '', admin: '' };
  let sha = '';
  let counter = 0;

  before(async () => {
    platform = await startPlatform();
    tokens.admin = platform.token;
    for (const scope of ['read', 'deploy'] as const) {
      const created = await api(platform.url, 'POST', '/api/v1/tokens', { name: `${scope} token`, scope });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      tokens[scope] = created.json!.token;
    }
    sha = (await deploy(platform.url, 'base', HELLO)).package;
  });
  after(() => platform.close());

  /** A new function (and an invoke key of it) for routes that change or remove something. */
  async function freshFunction(): Promise<{ name: string; keyId: string }> {
    const name = `fn-${counter++}`;
    await deploy(platform.url, name, HELLO);
    const key = await api(platform.url, 'POST', `/api/v1/functions/${name}/keys`, {});
    return { name, keyId: key.json!.id };
  }

  async function freshTokenId(): Promise<string> {
    return (await api(platform.url, 'POST', '/api/v1/tokens', { name: `victim ${counter++}`, scope: 'read' })).json!.id;
  }

  /** Each route, the scope it needs, and how to call it so that it succeeds. */
  const routes: Array<{ route: string; needs: Scope; ok: number; call: () => Promise<{ method: string; path: string; body?: unknown; raw?: Buffer }> }> = [
    { route: 'GET /functions', needs: 'read', ok: 200, call: async () => ({ method: 'GET', path: '/api/v1/functions' }) },
    { route: 'GET /functions/{name}', needs: 'read', ok: 200, call: async () => ({ method: 'GET', path: '/api/v1/functions/base' }) },
    { route: 'GET /functions/{name}/logs', needs: 'read', ok: 200, call: async () => ({ method: 'GET', path: '/api/v1/functions/base/logs' }) },
    { route: 'GET /whoami', needs: 'read', ok: 200, call: async () => ({ method: 'GET', path: '/api/v1/whoami' }) },
    { route: 'POST /packages', needs: 'deploy', ok: 201, call: async () => ({ method: 'POST', path: '/api/v1/packages', raw: Buffer.from(HELLO.content) }) },
    { route: 'PUT /functions/{name}', needs: 'deploy', ok: 200, call: async () => ({ method: 'PUT', path: '/api/v1/functions/base', body: { package: sha } }) },
    { route: 'DELETE /functions/{name}', needs: 'deploy', ok: 204, call: async () => ({ method: 'DELETE', path: `/api/v1/functions/${(await freshFunction()).name}` }) },
    { route: 'GET /functions/{name}/keys', needs: 'deploy', ok: 200, call: async () => ({ method: 'GET', path: '/api/v1/functions/base/keys' }) },
    { route: 'POST /functions/{name}/keys', needs: 'deploy', ok: 201, call: async () => ({ method: 'POST', path: '/api/v1/functions/base/keys', body: { name: 'k' } }) },
    {
      route: 'DELETE /functions/{name}/keys/{id}',
      needs: 'deploy',
      ok: 204,
      call: async () => {
        const { name, keyId } = await freshFunction();
        return { method: 'DELETE', path: `/api/v1/functions/${name}/keys/${keyId}` };
      },
    },
    { route: 'GET /tokens', needs: 'admin', ok: 200, call: async () => ({ method: 'GET', path: '/api/v1/tokens' }) },
    { route: 'POST /tokens', needs: 'admin', ok: 201, call: async () => ({ method: 'POST', path: '/api/v1/tokens', body: { name: 'new', scope: 'read' } }) },
    { route: 'DELETE /tokens/{id}', needs: 'admin', ok: 204, call: async () => ({ method: 'DELETE', path: `/api/v1/tokens/${await freshTokenId()}` }) },
  ];

  const ORDER: Scope[] = ['read', 'deploy', 'admin'];

  async function send(call: { method: string; path: string; body?: unknown; raw?: Buffer }, token: string | null) {
    if (call.raw === undefined) return api(platform.url, call.method, call.path, call.body, { token });
    const res = await request(`${platform.url}${call.path}`, {
      method: call.method as 'POST',
      headers: { 'x-nimbus-filename': 'index.js', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: call.raw,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  }

  for (const { route, needs, ok, call } of routes) {
    test(`${route}: needs ${needs}`, async () => {
      const none = await send(await call(), null);
      assert.equal(none.status, 401, `${route} without a token`);
      assert.equal(none.headers['x-nimbus-error'], 'UNAUTHENTICATED');
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="nimbus"');
      for (const scope of ORDER) {
        const res = await send(await call(), tokens[scope]);
        if (ORDER.indexOf(scope) >= ORDER.indexOf(needs)) {
          assert.equal(res.status, ok, `${route} with a ${scope} token: ${JSON.stringify(res.json)}`);
        } else {
          assert.equal(res.status, 403, `${route} with a ${scope} token`);
          assert.equal(res.json!.error.code, 'FORBIDDEN');
          assert.equal(res.json!.error.details.requiredScope, needs);
          assert.match(res.json!.error.message, new RegExp(`needs a token with scope "${needs}"; this token \\("${scope} token"\\) has scope "${scope}"`));
          assert.match(String(res.headers['www-authenticate']), new RegExp(`error="insufficient_scope", scope="${needs}"`));
        }
      }
    });
  }

  test('the API description and health stay open', async () => {
    assert.equal((await api(platform.url, 'GET', '/api/v1/openapi.json', undefined, { token: null })).status, 200);
    assert.equal((await api(platform.url, 'GET', '/healthz', undefined, { token: null })).status, 200);
    const doc = (await api(platform.url, 'GET', '/api/v1/openapi.json')).json!;
    assert.equal(doc.paths['/api/v1/tokens'].post['x-nimbus-scope'], 'admin');
    assert.equal(doc.paths['/api/v1/functions/{name}'].put['x-nimbus-scope'], 'deploy');
    assert.equal(doc.paths['/api/v1/functions'].get['x-nimbus-scope'], 'read');
    assert.ok(doc.components.securitySchemes.bearer);
  });

  test('unknown, malformed and non-bearer credentials are refused with 401', async () => {
    const unknown = `nmb_${'A'.repeat(43)}`;
    for (const token of [unknown, 'not-a-token', tokens.admin.slice(0, -1)]) {
      const res = await api(platform.url, 'GET', '/api/v1/functions', undefined, { token });
      assert.equal(res.status, 401);
      assert.equal(res.json!.error.code, 'INVALID_TOKEN');
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    }
    const basic = await request(`${platform.url}/api/v1/functions`, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    assert.equal(basic.statusCode, 401);
    assert.equal(basic.headers['x-nimbus-error'], 'UNAUTHENTICATED');
    await basic.body.dump();
  });

  test('a revoked token is refused at once; revoking an unknown id is 404', async () => {
    const created = (await api(platform.url, 'POST', '/api/v1/tokens', { name: 'short-lived', scope: 'deploy' })).json!;
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions', undefined, { token: created.token })).status, 200);
    assert.equal((await api(platform.url, 'DELETE', `/api/v1/tokens/${created.id}`)).status, 204);
    const after = await api(platform.url, 'GET', '/api/v1/functions', undefined, { token: created.token });
    assert.equal(after.status, 401);
    assert.equal(after.json!.error.code, 'INVALID_TOKEN');
    const listed = ((await api(platform.url, 'GET', '/api/v1/tokens')).json!.tokens as Array<{ id: string; revoked: boolean; revokedAt: string | null }>).find((t) => t.id === created.id);
    assert.equal(listed?.revoked, true);
    assert.ok(listed?.revokedAt);
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/tokens/tok_nope')).json!.error.code, 'TOKEN_NOT_FOUND');
  });

  test('tokens are created with a name and scope; the value is shown only then', async () => {
    const created = await api(platform.url, 'POST', '/api/v1/tokens', { name: 'ci', scope: 'deploy' });
    assert.equal(created.status, 201);
    assert.equal(created.headers['cache-control'], 'no-store');
    assert.match(created.json!.token, /^nmb_[A-Za-z0-9_-]{43}$/);
    assert.match(created.json!.id, /^tok_[0-9a-f]{12}$/);
    assert.deepEqual({ name: created.json!.name, scope: created.json!.scope, revoked: created.json!.revoked }, { name: 'ci', scope: 'deploy', revoked: false });

    const me = await api(platform.url, 'GET', '/api/v1/whoami', undefined, { token: created.json!.token });
    assert.deepEqual(me.json, { id: created.json!.id, name: 'ci', scope: 'deploy' });

    const list = await api(platform.url, 'GET', '/api/v1/tokens');
    const text = JSON.stringify(list.json);
    assert.ok(!text.includes(created.json!.token), 'the listing never has a value');
    assert.ok(!text.includes(hashSecret(created.json!.token)), 'nor a hash');
    for (const t of list.json!.tokens as object[]) {
      assert.deepEqual(Object.keys(t).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'revoked', 'revokedAt', 'scope']);
    }
    const ci = (list.json!.tokens as Array<{ id: string; lastUsedAt: string | null }>).find((t) => t.id === created.json!.id);
    assert.ok(ci?.lastUsedAt, 'the use by whoami was recorded');

    for (const [body, field] of [
      [{ name: 'x', scope: 'root' }, 'scope'],
      [{ name: '', scope: 'read' }, 'name'],
      [{ name: 'x\u001b[31m', scope: 'read' }, 'name'],
      [{ scope: 'read' }, 'name'],
      [{ name: 'x', scope: 'read', extra: 1 }, 'extra'],
    ] as const) {
      const bad = await api(platform.url, 'POST', '/api/v1/tokens', body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.json!.error.code, 'INVALID_REQUEST');
      assert.equal(bad.json!.error.details.field, field);
    }
  });

  test('the database holds hashes only, never token or key values', async () => {
    const token = (await api(platform.url, 'POST', '/api/v1/tokens', { name: 'stored', scope: 'read' })).json!.token as string;
    const key = (await api(platform.url, 'POST', '/api/v1/functions/base/keys', { name: 'stored' })).json!.key as string;
    // Each written at least once, through the WAL, so both files are read.
    const files = (await readdir(platform.dataDir)).filter((f) => f.startsWith('nimbus.db'));
    const bytes = Buffer.concat(await Promise.all(files.map((f) => readFile(join(platform.dataDir, f)))));
    for (const secret of [token, key, platform.token]) {
      assert.ok(!bytes.includes(secret), 'a secret value is in the database');
      assert.ok(bytes.includes(hashSecret(secret)), 'its hash is (so the right files were read)');
    }
  });
});

describe('failed authentication is rate-limited per client address', () => {
  test('past 10 unknown tokens: 429 AUTH_RATE_LIMITED with Retry-After, while a valid token still passes at once', async () => {
    const platform = await startPlatform();
    try {
      for (let i = 0; i < 10; i++) {
        const res = await api(platform.url, 'GET', '/api/v1/functions', undefined, { token: `nmb_wrong${i}` });
        assert.equal(res.status, 401, `attempt ${i + 1}`);
        assert.equal(res.json!.error.code, 'INVALID_TOKEN');
      }
      const limited = await api(platform.url, 'GET', '/api/v1/functions', undefined, { token: 'nmb_wrong-again' });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['x-nimbus-error'], 'AUTH_RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) >= 1, String(limited.headers['retry-after']));
      // The same address with the right token: answered, not slowed.
      const started = Date.now();
      const ok = await api(platform.url, 'GET', '/api/v1/functions', undefined, { token: platform.token });
      assert.equal(ok.status, 200);
      assert.ok(Date.now() - started < 1000);
      // No token at all is not a guess: still 401 UNAUTHENTICATED.
      assert.equal((await api(platform.url, 'GET', '/api/v1/functions', undefined, { token: null })).json!.error.code, 'UNAUTHENTICATED');
      assert.equal((await api(platform.url, 'GET', '/api/v1/whoami', undefined, { token: 'nmb_still-wrong' })).status, 429);
    } finally {
      await platform.close();
    }
  });
});
