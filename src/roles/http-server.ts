import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NimbusError } from '../core/errors.js';
import { ASYNC_PATH_PREFIX } from '../api/wire.js';
import { type HttpInvokeEdge, pathAndQueryOf } from '../edges/http-invoke.js';
import { answerClientError, refuseConnect, refuseExpectation } from '../http/client-error.js';
import { functionFromHost } from '../http/function-host.js';
import { sendError, sendJson } from '../http/respond.js';

/** What the one port serves. */
export interface HttpRoles {
  /** Invocations: `/fn/<name>/…` and requests to `<name>.<domain>`. */
  invoke: HttpInvokeEdge;
  /** The management API under `/api/`. */
  api(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** `GET /metrics`: the Prometheus metrics. */
  metrics(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The dashboard's static files under `/ui` (open: the data comes from the API, with a token). */
  ui(req: IncomingMessage, res: ServerResponse): void;
  /** Function hosts' domain; empty: off. */
  domain: string;
  onInternalError(err: unknown): void;
  /** True once the platform is closing (`/healthz` then answers 503). */
  closing(): boolean;
}

/** A listening node:http server and its URL. */
export interface Listening {
  server: Server;
  url: string;
}

/** Serves the roles on one node:http server listening on `host:port`. */
export async function listenHttp(host: string, port: number, roles: HttpRoles): Promise<Listening> {
  const { invoke, api, metrics, ui, domain, onInternalError } = roles;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const ownHost = functionFromHost(req.headers.host, domain);
    if (ownHost !== undefined) {
      invoke.handle(req, res, ownHost, path.startsWith('/') ? path : `/${path}`).catch((err: unknown) => sendError(res, err, onInternalError));
    } else if (path.startsWith('/fn/')) {
      const end = path.slice(4).search(/[/?]/);
      const name = end === -1 ? path.slice(4) : path.slice(4, 4 + end);
      invoke.handle(req, res, name).catch((err: unknown) => sendError(res, err, onInternalError));
    } else if (path.startsWith(ASYNC_PATH_PREFIX)) {
      const start = ASYNC_PATH_PREFIX.length;
      const end = path.slice(start).search(/[/?]/);
      const name = end === -1 ? path.slice(start) : path.slice(start, start + end);
      invoke.handle(req, res, name, pathAndQueryOf(req, ASYNC_PATH_PREFIX), true).catch((err: unknown) => sendError(res, err, onInternalError));
    } else if (path.startsWith('/api/')) {
      void api(req, res);
    } else if (path === '/ui' || path.startsWith('/ui/') || path.startsWith('/ui?')) {
      ui(req, res);
    } else if (path === '/metrics' || path.startsWith('/metrics?')) {
      void metrics(req, res);
    } else if (path === '/healthz') {
      if (roles.closing()) sendError(res, new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down.'));
      else sendJson(res, 200, { status: 'ok' });
    } else if (path === '/') {
      sendJson(res, 200, { name: 'nimbus', api: '/api/v1', openapi: '/api/v1/openapi.json', invoke: '/fn/{name}', dashboard: '/ui/' });
    } else {
      sendError(res, new NimbusError('NOT_FOUND', `Nothing at ${path.slice(0, 200)}. Functions are under /fn/<name>, the API under /api/v1.`));
    }
  });
  // Invocations carry their own deadline and log follows stay open: no server-wide request timeout.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  // Malformed requests get catalogue errors with a JSON body, like everything else.
  server.on('clientError', answerClientError);
  server.on('connect', refuseConnect);
  server.on('checkExpectation', refuseExpectation);

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
