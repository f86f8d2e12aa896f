import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken } from '../../src/auth/api-guard.js';
import { hashSecret, INVOKE_KEY_PREFIX, isWellFormed, newInvokeKey, newToken, TOKEN_PREFIX } from '../../src/auth/credentials.js';
import { authRoutes, type AuthRouteDeps } from '../../src/api/auth-routes.js';
import { invocationRoutes, type InvocationRouteDeps } from '../../src/api/invocation-routes.js';
import { matchRoute, scopeOf } from '../../src/api/route-table.js';
import { statsRoutes, type StatsRouteDeps } from '../../src/api/stats-routes.js';
import { usageRoutes, type UsageRouteDeps } from '../../src/api/usage-routes.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { triggerRoutes } from '../../src/api/trigger-routes.js';
import type { TriggerService } from '../../src/control/trigger-service.js';
import { type ApiDeps, routeTable } from '../../src/api/routes.js';
import { defaultInvokeAuth, isLoopbackHost } from '../../src/core/invoke-auth.js';
import { scopeAllows } from '../../src/core/scope.js';

/** The API's route table; no handler runs here, so the parts behind the routes are left out. */
const table = routeTable({
  extraRoutes: [...authRoutes({} as AuthRouteDeps), ...invocationRoutes({} as InvocationRouteDeps), ...usageRoutes({} as UsageRouteDeps), ...statsRoutes({} as StatsRouteDeps), ...triggerRoutes({} as TriggerService)],
} as unknown as ApiDeps);

/** The scope a request needs, as the API enforces it; null when it needs none. */
function requiredScope(method: string, path: string): string | null {
  const scope = scopeOf(matchRoute(table, method, path), method);
  return scope === 'open' ? null : scope;
}

describe('the scope each API route declares', () => {
  const cases: Array<[string, string, string | null]> = [
    ['GET', '/api/v1/openapi.json', null],
    ['GET', '/api/v1/functions', 'read'],
    ['GET', '/api/v1/limits', 'read'],
    ['GET', '/api/v1/functions/hello', 'read'],
    ['GET', '/api/v1/functions/hello/logs', 'read'],
    ['GET', '/api/v1/whoami', 'read'],
    ['POST', '/api/v1/packages', 'deploy'],
    ['PUT', '/api/v1/functions/hello', 'deploy'],
    ['DELETE', '/api/v1/functions/hello', 'deploy'],
    ['GET', '/api/v1/functions/hello/keys', 'deploy'],
    ['POST', '/api/v1/functions/hello/keys', 'deploy'],
    ['DELETE', '/api/v1/functions/hello/keys/key_1', 'deploy'],
    ['GET', '/api/v1/tokens', 'admin'],
    ['POST', '/api/v1/tokens', 'admin'],
    ['DELETE', '/api/v1/tokens/tok_1', 'admin'],
    // Secrets: names and metadata are readable; setting or removing a value needs admin.
    ['GET', '/api/v1/secrets', 'read'],
    ['PUT', '/api/v1/secrets/DB_PASSWORD', 'admin'],
    ['DELETE', '/api/v1/secrets/DB_PASSWORD', 'admin'],
    // Async invocations: status is readable; dead letters are the deployer's to redrive or purge.
    ['GET', '/api/v1/invocations', 'read'],
    ['GET', '/api/v1/invocations/0192-abc', 'read'],
    ['GET', '/api/v1/usage', 'read'],
    ['GET', '/api/v1/stats', 'read'],
    ['GET', '/api/v1/functions/hello/stats', 'read'],
    ['POST', '/api/v1/functions/hello/dlq/redrive', 'deploy'],
    ['DELETE', '/api/v1/functions/hello/dlq', 'deploy'],
    // Triggers: as for functions.
    ['GET', '/api/v1/triggers', 'read'],
    ['GET', '/api/v1/triggers/nightly', 'read'],
    ['POST', '/api/v1/triggers', 'deploy'],
    ['PUT', '/api/v1/triggers/nightly', 'deploy'],
    ['PATCH', '/api/v1/triggers/nightly', 'deploy'],
    ['DELETE', '/api/v1/triggers/nightly', 'deploy'],
    ['POST', '/api/v1/triggers/nightly/pause', 'deploy'],
    ['POST', '/api/v1/triggers/nightly/resume', 'deploy'],
    // Requests no route serves still need a token: read for GET and HEAD, admin for writes.
    ['POST', '/api/v1/functions/hello', 'admin'],
    ['PUT', '/api/v1/something-new', 'admin'],
    ['GET', '/api/v1/something-new', 'read'],
    ['HEAD', '/api/v1/functions', 'read'],
    // The scope is the one of the route that runs: the path as sent, never normalised.
    ['DELETE', '/api/v1/functions/%2e%2e', 'deploy'],
  ];
  for (const [method, path, scope] of cases) {
    it(`${method} ${path} needs ${scope ?? 'nothing'}`, () => assert.equal(requiredScope(method, path), scope));
  }
});

describe('the API description', () => {
  it('describes only routes the table serves, with the scope each declares', () => {
    const scopeFor = (method: string, path: string) => scopeOf(matchRoute(table, method, path), method);
    const doc = openApiDocument('http://nimbus.test', scopeFor) as { paths: Record<string, Record<string, { 'x-nimbus-scope'?: string; security?: unknown[] }>> };
    let described = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/')) continue;
      const concrete = path.replace(/\{[^}]+\}/g, 'x');
      for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
        const operation = item[method];
        if (!operation) continue;
        described++;
        const match = matchRoute(table, method.toUpperCase(), concrete);
        assert.equal(match.kind, 'found', `${method} ${path} is routed`);
        const scope = match.kind === 'found' ? match.method.scope : undefined;
        assert.equal(operation['x-nimbus-scope'], scope === 'open' ? undefined : scope, `${method} ${path}`);
      }
    }
    assert.ok(described >= 15, `${described} operations`);
  });
});

describe('scopeAllows', () => {
  it('each scope includes the smaller ones', () => {
    assert.ok(scopeAllows('admin', 'deploy') && scopeAllows('admin', 'read') && scopeAllows('deploy', 'read') && scopeAllows('read', 'read'));
    assert.ok(!scopeAllows('read', 'deploy') && !scopeAllows('deploy', 'admin') && !scopeAllows('read', 'admin'));
  });
});

describe('default invoke auth', () => {
  it('is public on loopback hosts only', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) {
      assert.equal(isLoopbackHost(host), true, host);
      assert.equal(defaultInvokeAuth(host), 'public', host);
    }
    for (const host of ['0.0.0.0', '::', '[::]', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1', '']) {
      assert.equal(isLoopbackHost(host), false, host);
      assert.equal(defaultInvokeAuth(host), 'key', host);
    }
  });
});

describe('credentials', () => {
  it('tokens and keys have their prefix and 256 random bits', () => {
    const a = newToken();
    const k = newInvokeKey();
    assert.match(a, /^nmb_[A-Za-z0-9_-]{43}$/);
    assert.match(k, /^nmk_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, newToken());
    assert.ok(isWellFormed(a, TOKEN_PREFIX) && !isWellFormed(a, INVOKE_KEY_PREFIX) && isWellFormed(k, INVOKE_KEY_PREFIX));
    assert.ok(!isWellFormed('nmb_short', TOKEN_PREFIX));
  });

  it('are stored as hex sha256', () => {
    assert.equal(hashSecret('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('bearer tokens are read from the Authorization header only with the Bearer scheme', () => {
    assert.equal(bearerToken('Bearer nmb_x'), 'nmb_x');
    assert.equal(bearerToken('bearer   nmb_x '), 'nmb_x');
    assert.equal(bearerToken('Basic dXNlcjpwdw=='), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});
