import type { IncomingMessage } from 'node:http';
import { callerOf } from '../auth/api-guard.js';
import type { InvokeKeys } from '../auth/invoke-keys.js';
import type { TokenService } from '../auth/token-service.js';
import { sendJson } from '../http/respond.js';
import { readJson } from './body.js';
import type { FunctionService } from './function-service.js';
import type { ApiRoute } from './routes.js';

/** What the access control routes need. */
export interface AuthRouteDeps {
  tokens: TokenService;
  keys: InvokeKeys;
  service: FunctionService;
}

/**
 * Routes of access control: who am I, API tokens (admin scope) and the invoke keys of functions
 * (deploy scope). The scopes are enforced in front of the API (src/auth/api-guard.ts).
 */
export function authRoutes({ tokens, keys, service }: AuthRouteDeps): ApiRoute[] {
  return [
    {
      pattern: /^\/api\/v1\/whoami$/,
      methods: {
        GET: (req, res) => {
          const caller = callerOf(req);
          sendJson(res, 200, caller ? { id: caller.id, name: caller.name, scope: caller.scope } : {});
        },
      },
    },
    {
      pattern: /^\/api\/v1\/tokens$/,
      methods: {
        GET: async (_req, res) => sendJson(res, 200, { tokens: await tokens.list() }),
        POST: async (req, res) => sendJson(res, 201, await tokens.create(await readJson(req)), { 'cache-control': 'no-store' }),
      },
    },
    {
      pattern: /^\/api\/v1\/tokens\/([^/]+)$/,
      methods: {
        DELETE: async (_req, res, { name: id }) => {
          await tokens.revoke(id);
          res.writeHead(204).end();
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/keys$/,
      methods: {
        GET: async (_req, res, { name }) => {
          await service.get(name);
          sendJson(res, 200, { keys: await keys.list(name) });
        },
        POST: async (req, res, { name }) => {
          await service.get(name);
          sendJson(res, 201, await keys.create(name, await readOptionalJson(req)), { 'cache-control': 'no-store' });
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/keys\/([^/]+)$/,
      methods: {
        DELETE: async (_req, res, { name, params }) => {
          await service.get(name);
          await keys.revoke(name, params[1] ?? '');
          res.writeHead(204).end();
        },
      },
    },
  ];
}

/** A JSON body, or `{}` when the request has none (`curl -X POST …/keys`). */
function readOptionalJson(req: IncomingMessage): Promise<unknown> {
  const length = req.headers['content-length'];
  const none = length === '0' || (length === undefined && req.headers['transfer-encoding'] === undefined);
  return none ? Promise.resolve({}) : readJson(req);
}
