import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionService } from '../control/function-service.js';
import type { SecretService } from '../control/secret-service.js';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import type { Scope } from '../core/scope.js';
import { assertFunctionName } from '../core/spec.js';
import { sendError, sendJson } from '../http/respond.js';
import type { PackageLimits, PackageRepository } from '../packages/types.js';
import type { LogBuffer } from '../telemetry/logs.js';
import { baseUrlOf, MAX_JSON_BYTES, readJson } from './body.js';
import type { FunctionViews } from './function-view.js';
import { serveLogs } from './logs-route.js';
import { openApiDocument } from './openapi.js';
import { type ApiRoute, matchRoute, type RouteAccess, scopeOf } from './route-table.js';
import { secretRoutes } from './secret-routes.js';
import { PACKAGE_FILENAME_HEADER, type PlatformLimits } from './wire.js';

export type { ApiRoute, Handler, RouteAccess } from './route-table.js';

export interface ApiDeps {
  service: FunctionService;
  views: FunctionViews;
  packages: PackageRepository;
  packageLimits: PackageLimits;
  /** The largest invocation body the gateway takes (answered by `GET /api/v1/limits`). */
  maxBodyBytes: number;
  logs: LogBuffer;
  secrets: SecretService;
  clock: Clock;
  /** The platform's own URL, used when a request has no usable Host header. */
  serverUrl(): string;
  onInternalError(err: unknown): void;
  /**
   * Lets the request through when its caller may do what needs `scope`, or throws the NimbusError
   * to answer (401, 403, 429: src/auth/api-guard.ts). Called before the request is routed any
   * further, so callers without a token learn nothing about the API.
   */
  authorize(req: IncomingMessage, scope: Scope): Promise<void>;
  /** Routes served besides the ones here (e.g. tokens and invoke keys, src/api/auth-routes.ts). */
  extraRoutes?: ApiRoute[];
}

/**
 * Route table: path pattern (the first group is a function or secret name) → method → the scope
 * it needs and its handler. `scopeFor` answers the scope of any request (for the API description).
 */
function routes(deps: ApiDeps, scopeFor: (method: string, path: string) => RouteAccess): ApiRoute[] {
  const { service, views } = deps;
  const base = (req: IncomingMessage) => baseUrlOf(req, deps.serverUrl());
  return [
    {
      pattern: /^\/api\/v1\/openapi\.json$/,
      // Open: the description holds nothing about this platform.
      methods: { GET: { scope: 'open', handle: (req, res) => sendJson(res, 200, openApiDocument(base(req), scopeFor)) } },
    },
    {
      pattern: /^\/api\/v1\/limits$/,
      // Read: a client checks a package against them before uploading it (scope deploy).
      methods: { GET: { scope: 'read', handle: (_req, res) => sendJson(res, 200, platformLimits(deps)) } },
    },
    {
      pattern: /^\/api\/v1\/packages$/,
      methods: {
        POST: {
          scope: 'deploy',
          handle: async (req, res) => {
            const declared = Number(req.headers['content-length'] ?? 0);
            if (declared > deps.packageLimits.maxCompressedBytes) {
              throw new NimbusError('ARCHIVE_TOO_LARGE', `The upload is ${declared} bytes; the limit is ${deps.packageLimits.maxCompressedBytes}.`);
            }
            const filename = req.headers[PACKAGE_FILENAME_HEADER];
            const info = await deps.packages.ingest(req, { contentType: req.headers['content-type'], filename: typeof filename === 'string' ? filename : undefined });
            sendJson(res, 201, info);
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (req, res) => {
            const records = await service.list();
            sendJson(res, 200, { functions: records.map((r) => views.view(r, base(req))) });
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (req, res, { name }) => {
            assertFunctionName(name);
            sendJson(res, 200, views.view(await service.get(name), base(req)));
          },
        },
        PUT: {
          scope: 'deploy',
          handle: async (req, res, { name }) => {
            assertFunctionName(name);
            const { record, created } = await service.deploy(name, await readJson(req));
            sendJson(res, created ? 201 : 200, views.view(record, base(req)));
          },
        },
        DELETE: {
          scope: 'deploy',
          handle: async (_req, res, { name }) => {
            assertFunctionName(name);
            await service.remove(name);
            res.writeHead(204).end();
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/logs$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (req, res, { name, url }) => {
            assertFunctionName(name);
            await service.get(name);
            await serveLogs(req, res, url, name, deps.logs, deps.clock);
          },
        },
      },
    },
    ...secretRoutes(deps.secrets),
  ];
}

function platformLimits(deps: Pick<ApiDeps, 'packageLimits' | 'maxBodyBytes'>): PlatformLimits {
  const { maxCompressedBytes, maxUnpackedBytes, maxEntries } = deps.packageLimits;
  return { package: { maxBytes: maxCompressedBytes, maxUnpackedBytes, maxEntries }, invokeBodyBytes: deps.maxBodyBytes, apiBodyBytes: MAX_JSON_BYTES };
}

/** Every route of the API: the ones here, then `deps.extraRoutes`. */
export function routeTable(deps: ApiDeps): ApiRoute[] {
  const table: ApiRoute[] = [];
  const scopeFor = (method: string, path: string) => scopeOf(matchRoute(table, method, path), method);
  table.push(...routes(deps, scopeFor), ...(deps.extraRoutes ?? []));
  return table;
}

/**
 * Creates the `/api/v1` request handler: match the route, authorize the caller for the scope the
 * route declares (before anything else, so a request without a token gets 401 even on an unknown
 * route), then answer 404 or 405 or run the handler.
 */
export function createApi(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const table = routeTable(deps);
  return async (req, res) => {
    try {
      // Routes match the path as sent: a URL parser would resolve `..` and `%2e%2e` segments, so
      // /api/v1/functions/../secrets would reach another route instead of being refused. The
      // scope is taken from the same match, so the route that runs is the route that was authorized.
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const path = q === -1 ? target : target.slice(0, q);
      const url = new URL(`http://nimbus.invalid/${q === -1 ? '' : target.slice(q)}`);
      const method = req.method ?? 'GET';
      const match = matchRoute(table, method, path);
      const scope = scopeOf(match, method);
      if (scope !== 'open') await deps.authorize(req, scope);
      if (match.kind === 'method-not-allowed') {
        res.setHeader('allow', match.allowed.join(', '));
        throw new NimbusError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${shown(path)}; use ${match.allowed.join(' or ')}.`);
      }
      if (match.kind === 'not-found') throw new NimbusError('NOT_FOUND', `No API route ${req.method} ${shown(path)}. See /api/v1/openapi.json.`);
      await match.method.handle(req, res, { name: match.params[0] ?? '', url, params: match.params });
    } catch (err) {
      // Do not wait for a body nobody will read.
      if (!req.complete) res.setHeader('connection', 'close');
      sendError(res, err, deps.onInternalError);
    }
  };
}

/** A request path for a message: bounded, so junk sent to us is not echoed at length. */
function shown(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
