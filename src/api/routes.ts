import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { assertFunctionName } from '../core/spec.js';
import { sendError, sendJson } from '../http/respond.js';
import type { PackageLimits, PackageRepository } from '../packages/types.js';
import type { SecretService } from '../secrets/service.js';
import type { LogBuffer } from '../telemetry/logs.js';
import { baseUrlOf, readJson } from './body.js';
import type { FunctionService } from './function-service.js';
import { serveLogs } from './logs-route.js';
import { openApiDocument } from './openapi.js';
import { secretRoutes } from './secret-routes.js';

export interface ApiDeps {
  service: FunctionService;
  packages: PackageRepository;
  packageLimits: PackageLimits;
  logs: LogBuffer;
  secrets: SecretService;
  clock: Clock;
  /** The platform's own URL, used when a request has no usable Host header. */
  serverUrl(): string;
  onInternalError(err: unknown): void;
  /** Routes served besides the ones here (e.g. tokens and invoke keys, src/api/auth-routes.ts). */
  extraRoutes?: ApiRoute[];
}

/** `name` is the first path parameter (a function name on function routes), `params` all of them, decoded. */
export type Handler = (req: IncomingMessage, res: ServerResponse, params: { name: string; url: URL; params: string[] }) => Promise<void> | void;

/** A path pattern (its groups are the path parameters) and a handler per method. */
export interface ApiRoute {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

/** Route table: path pattern (the first group is a function or secret name) → method → handler. */
function routes(deps: ApiDeps): ApiRoute[] {
  const { service } = deps;
  const base = (req: IncomingMessage) => baseUrlOf(req, deps.serverUrl());
  return [
    {
      pattern: /^\/api\/v1\/openapi\.json$/,
      methods: { GET: (req, res) => sendJson(res, 200, openApiDocument(base(req))) },
    },
    {
      pattern: /^\/api\/v1\/packages$/,
      methods: {
        POST: async (req, res) => {
          const declared = Number(req.headers['content-length'] ?? 0);
          if (declared > deps.packageLimits.maxCompressedBytes) {
            throw new NimbusError('ARCHIVE_TOO_LARGE', `The upload is ${declared} bytes; the limit is ${deps.packageLimits.maxCompressedBytes}.`);
          }
          const filename = req.headers['x-nimbus-filename'];
          const info = await deps.packages.ingest(req, { contentType: req.headers['content-type'], filename: typeof filename === 'string' ? filename : undefined });
          sendJson(res, 201, info);
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions$/,
      methods: {
        GET: async (req, res) => {
          const records = await service.list();
          sendJson(res, 200, { functions: records.map((r) => service.view(r, base(req))) });
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)$/,
      methods: {
        GET: async (req, res, { name }) => {
          assertFunctionName(name);
          sendJson(res, 200, service.view(await service.get(name), base(req)));
        },
        PUT: async (req, res, { name }) => {
          assertFunctionName(name);
          const { record, created } = await service.deploy(name, await readJson(req));
          sendJson(res, created ? 201 : 200, service.view(record, base(req)));
        },
        DELETE: async (_req, res, { name }) => {
          assertFunctionName(name);
          await service.remove(name);
          res.writeHead(204).end();
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/logs$/,
      methods: {
        GET: async (req, res, { name, url }) => {
          assertFunctionName(name);
          await service.get(name);
          serveLogs(req, res, url, name, deps.logs, deps.clock);
        },
      },
    },
    ...secretRoutes(deps.secrets),
  ];
}

/** Creates the `/api/v1` request handler. */
export function createApi(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const table = [...routes(deps), ...(deps.extraRoutes ?? [])];
  return async (req, res) => {
    try {
      // Routes match the path as sent: a URL parser would resolve `..` and `%2e%2e` segments, so
      // /api/v1/functions/../secrets would reach another route instead of being refused.
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const path = q === -1 ? target : target.slice(0, q);
      const url = new URL(`http://nimbus.invalid/${q === -1 ? '' : target.slice(q)}`);
      for (const route of table) {
        const match = route.pattern.exec(path);
        if (!match) continue;
        const handler = route.methods[req.method ?? 'GET'];
        if (!handler) {
          res.setHeader('allow', Object.keys(route.methods).join(', '));
          throw new NimbusError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${shown(path)}; use ${Object.keys(route.methods).join(' or ')}.`);
        }
        const params = match.slice(1).map((group) => (group === undefined ? '' : safeDecode(group)));
        await handler(req, res, { name: params[0] ?? '', url, params });
        return;
      }
      throw new NimbusError('NOT_FOUND', `No API route ${req.method} ${shown(path)}. See /api/v1/openapi.json.`);
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

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
