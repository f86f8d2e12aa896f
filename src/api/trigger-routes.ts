import { NimbusError } from '../core/errors.js';
import { assertFunctionName } from '../core/spec.js';
import { sendJson } from '../http/respond.js';
import type { TriggerService } from '../control/trigger-service.js';
import { readJson } from './body.js';
import type { TriggerRecord } from '../store/trigger-types.js';
import type { ApiRoute, RouteMethod } from './route-table.js';
import { triggerView } from './trigger-view.js';

/**
 * `/api/v1/triggers`: scopes as for functions (read to look, deploy to change). Bodies are
 * checked whole before anything is stored (src/control/trigger-service.ts).
 */
export function triggerRoutes(triggers: TriggerService): ApiRoute[] {
  const change = (act: (name: string) => Promise<TriggerRecord>): RouteMethod => ({
    scope: 'deploy',
    handle: async (_req, res, { name }) => sendJson(res, 200, triggerView(await act(name))),
  });
  return [
    {
      pattern: /^\/api\/v1\/triggers$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (_req, res, { url }) => {
            const fn = url.searchParams.get('function') ?? undefined;
            if (fn !== undefined) assertFunctionName(fn);
            sendJson(res, 200, { triggers: (await triggers.list(fn === undefined ? {} : { function: fn })).map(triggerView) });
          },
        },
        POST: {
          scope: 'deploy',
          handle: async (req, res) => {
            const body = await readJson(req);
            if (typeof body !== 'object' || body === null || Array.isArray(body)) {
              throw new NimbusError('INVALID_TRIGGER', 'body: send a JSON object {"name", "function", "type", "settings"}.', { details: { field: 'body' } });
            }
            const { name, ...rest } = body as { name?: unknown };
            if (typeof name !== 'string') throw new NimbusError('INVALID_TRIGGER', 'name: the trigger needs a name (a DNS label, e.g. "nightly-report").', { details: { field: 'name' } });
            sendJson(res, 201, triggerView(await triggers.create(name, rest)));
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/triggers\/([^/]+)$/,
      methods: {
        GET: { scope: 'read', handle: async (_req, res, { name }) => sendJson(res, 200, triggerView(await triggers.get(name))) },
        PUT: {
          scope: 'deploy',
          handle: async (req, res, { name }) => {
            const { record, created } = await triggers.put(name, await readJson(req));
            sendJson(res, created ? 201 : 200, triggerView(record));
          },
        },
        PATCH: {
          scope: 'deploy',
          handle: async (req, res, { name }) => sendJson(res, 200, triggerView(await triggers.update(name, await readJson(req)))),
        },
        DELETE: {
          scope: 'deploy',
          handle: async (_req, res, { name }) => {
            await triggers.remove(name);
            res.writeHead(204).end();
          },
        },
      },
    },
    { pattern: /^\/api\/v1\/triggers\/([^/]+)\/pause$/, methods: { POST: change((name) => triggers.pause(name)) } },
    { pattern: /^\/api\/v1\/triggers\/([^/]+)\/resume$/, methods: { POST: change((name) => triggers.resume(name)) } },
  ];
}
