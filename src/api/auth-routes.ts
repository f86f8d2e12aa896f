import type { IncomingMessage } from 'node:http';
import { callerOf } from '../auth/api-guard.js';
import type { InvokeKeys } from '../auth/invoke-keys.js';
import type { TokenService } from '../auth/token-service.js';
import { sendJson } from '../http/respond.js';
import { readJson } from './body.js';
import type { FunctionService } from '../control/function-service.js';
import type { ApiRoute } from './route-table.js';

/** What the access control routes need. */
export interface AuthRouteDeps {
  tokens: TokenService;
  keys: InvokeKeys;
  service: FunctionService;
}

/**
 * Routes of access control: who am I, API tokens (admin scope) and the invoke keys of functions
 * (deploy scope). Each method declares its scope; the API enforces it (src/auth/api-guard.ts).
 */
export function authRoutes({ tokens, keys, service }: AuthRouteDeps): ApiRoute[] {
  return [
    {
      pattern: /^\/api\/v1\/whoami$/,
      methods: {
        GET: {
          scope: 'read',
          handle: (req, res) => {
            const caller = callerOf(req);
            sendJson(res, 200, caller ? { id: caller.id, name: caller.name, scope: caller.scope } : {});
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/tokens$/,
      methods: {
        GET: { scope: 'admin', handle: async (_req, res) => sendJson(res, 200, { tokens: await tokens.list() }) },
        POST: { scope: 'admin', handle: async (req, res) => sendJson(res, 201, await tokens.create(await readJson(req)), { 'cache-control': 'no-store' }) },
      },
    },
    {
      pattern: /^\/api\/v1\/tokens\/([^/]+)$/,
      methods: {
        DELETE: {
          scope: 'admin',
          handle: async (_req, res, { name: id }) => {
            await tokens.revoke(id);
            res.writeHead(204).end();
          },
        },
      },
    },
    // Invoke keys are credentials: even listing them (without their values) needs deploy.
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/keys$/,
      methods: {
        GET: {
          scope: 'deploy',
          handle: async (_req, res, { name }) => {
            await service.get(name);
            sendJson(res, 200, { keys: await keys.list(name) });
          },
        },
        POST: {
          scope: 'deploy',
          handle: async (req, res, { name }) => {
            await service.get(name);
            sendJson(res, 201, await keys.create(name, await readOptionalJson(req)), { 'cache-control': 'no-store' });
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/keys\/([^/]+)$/,
      methods: {
        DELETE: {
          scope: 'deploy',
          handle: async (_req, res, { name, params }) => {
            await service.get(name);
            await keys.revoke(name, params[1] ?? '');
            res.writeHead(204).end();
          },
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
