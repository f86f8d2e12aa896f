/**
 * A test Kubernetes API server: the pod endpoints of core/v1 that Nimbus's Kubernetes backend
 * uses, over real HTTP, answering as kube-apiserver does (status codes, metav1.Status bodies,
 * resource versions, label selectors, chunked watch streams that end and must be resumed, 410 Gone
 * for a compacted resource version). Nothing here is known to the code under test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LabelSelector } from './labels.js';
import { ApiError, badRequest, methodNotAllowed, tooManyRequests, unsupportedMediaType } from './status.js';
import { PodStore } from './store.js';
import type { Pod, Status } from './types.js';

/** Settings of the test server. */
export interface TestApiServerOptions {
  /** Events kept for resuming watches. @default 1000 */
  historySize?: number;
  /** The server ends every watch after this long (the real one after --min-request-timeout, 30-60 min). @default 60000 */
  watchLifetimeMs?: number;
  /**
   * Checks each object sent to create, and each patched object, against the API's OpenAPI schema
   * (throws to refuse it: answered 400, as the real server answers a body it cannot decode into
   * its types, e.g. a string where a number belongs).
   */
  schemaCheck?(object: unknown): void;
  /** Suffixes of generated names (tests force a collision with it). @default 5 random characters */
  nameSuffix?(): string;
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/;
const LOG_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/;

/** The kubelet side of `pods/{name}/log`: a running container's output. */
export interface LogSource {
  follow(name: string, line: (text: string) => void, end: () => void): (() => void) | undefined;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export class TestApiServer {
  readonly store: PodStore;
  /** Every request, as "METHOD path" (for tests that check what the client did). */
  readonly requests: string[] = [];
  private readonly server: Server;
  private readonly watches = new Set<{ end(): void; destroy(): void }>();
  private throttled = 0;
  private logSource: LogSource | undefined;
  private throttleRetryAfter = 1;

  constructor(private readonly options: TestApiServerOptions = {}) {
    this.store = new PodStore(options.historySize, options.nameSuffix);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Where container logs come from (the node agent). */
  serveLogs(source: LogSource): void {
    this.logSource = source;
  }

  /** The next `count` requests (other than watches) get 429 with Retry-After. */
  throttle(count: number, retryAfterSeconds = 1): void {
    this.throttled = count;
    this.throttleRetryAfter = retryAfterSeconds;
  }

  /** Ends every open watch: cleanly (`end`, as a server-side timeout) or by cutting the connection. */
  dropWatches(how: 'end' | 'destroy' = 'end'): number {
    const count = this.watches.size;
    for (const watch of [...this.watches]) watch[how]();
    return count;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  async close(): Promise<void> {
    this.dropWatches('destroy');
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://api');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    try {
      const log = url.pathname.match(LOG_PATH);
      if (log && req.method === 'GET') return this.log(req, res, decodeURIComponent(log[1]!), decodeURIComponent(log[2]!), url);
      const match = url.pathname.match(POD_PATH);
      if (!match) return send(res, 404, { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
      const namespace = decodeURIComponent(match[1]!);
      const name = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
      const watch = url.searchParams.get('watch');
      const watching = name === undefined && req.method === 'GET' && (watch === 'true' || watch === '1');
      if (!watching && this.throttled > 0) {
        this.throttled--;
        res.setHeader('retry-after', String(this.throttleRetryAfter));
        throw tooManyRequests(this.throttleRetryAfter);
      }
      const selector = (): LabelSelector => {
        try {
          return LabelSelector.parse(url.searchParams.get('labelSelector'));
        } catch (err) {
          throw badRequest((err as Error).message);
        }
      };
      if (name === undefined) {
        if (watching) return this.watch(req, res, namespace, selector(), url);
        if (req.method === 'GET') {
          const { items, resourceVersion } = this.store.list(namespace, selector());
          return send(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion }, items });
        }
        if (req.method === 'POST') {
          const body = (await readJson(req)) as Pod;
          this.checkSchema(body);
          return send(res, 201, this.store.create(namespace, body));
        }
        throw methodNotAllowed();
      }
      if (req.method === 'GET') return send(res, 200, this.store.get(namespace, name));
      if (req.method === 'PATCH') {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (type !== 'application/merge-patch+json') throw unsupportedMediaType(type);
        const patch = (await readJson(req)) as Partial<Pod>;
        const expectedRv = patch?.metadata?.resourceVersion;
        const updated = this.store.update(namespace, name, (pod) => {
          const next = mergePatch(pod, patch) as Pod;
          next.metadata.resourceVersion = pod.metadata.resourceVersion;
          this.checkSchema(next);
          return next;
        }, expectedRv === undefined ? {} : { expectedRv });
        return send(res, 200, updated);
      }
      if (req.method === 'DELETE') {
        const body = (await readJson(req, true)) as { gracePeriodSeconds?: number } | undefined;
        const query = url.searchParams.get('gracePeriodSeconds');
        const grace = body?.gracePeriodSeconds ?? (query === null ? undefined : Number(query));
        return send(res, 200, this.store.delete(namespace, name, grace));
      }
      throw methodNotAllowed();
    } catch (err) {
      if (err instanceof ApiError) return send(res, err.status.code, err.status);
      throw err;
    }
  }

  private checkSchema(object: Pod): void {
    if (object === null || typeof object !== 'object') throw badRequest('the body of the request must be an object');
    try {
      // The endpoint's type is the default when the body names none, as on the real server.
      this.options.schemaCheck?.({ apiVersion: 'v1', kind: 'Pod', ...object });
    } catch (err) {
      throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
    }
  }

  /** A container's log: what it wrote so far, and with `follow=true` what it writes until it ends. */
  private log(req: IncomingMessage, res: ServerResponse, namespace: string, name: string, url: URL): void {
    const pod = this.store.get(namespace, name);
    const container = url.searchParams.get('container');
    if (container && !pod.spec.containers.some((c) => c.name === container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    const lines: string[] = [];
    let stop: (() => void) | undefined;
    const follow = url.searchParams.get('follow') === 'true';
    const started = this.logSource?.follow(
      name,
      (text) => (follow && res.headersSent ? res.write(`${text}\n`) : lines.push(text)),
      () => res.end(),
    );
    if (!started) throw badRequest(`container "${pod.spec.containers[0]?.name}" in pod "${name}" is waiting to start: ContainerCreating`);
    stop = started;
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.write(lines.map((text) => `${text}\n`).join(''));
    if (!follow) {
      stop();
      res.end();
      return;
    }
    req.socket.on('close', () => stop?.());
  }

  /** A watch: newline-delimited events on a chunked response, ended by the server after a while. */
  private watch(req: IncomingMessage, res: ServerResponse, namespace: string, selector: LabelSelector, url: URL): void {
    const fromRv = url.searchParams.get('resourceVersion') ?? '';
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    const lifetime = Math.min(this.options.watchLifetimeMs ?? 60_000, timeoutSeconds > 0 ? timeoutSeconds * 1000 : Infinity);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const write = (event: unknown) => res.write(`${JSON.stringify(event)}\n`);
    let stop = (): void => undefined;
    const handle = {
      end: () => finish(),
      destroy: () => {
        finish(false);
        res.socket?.destroy();
      },
    };
    const timer = setTimeout(() => finish(), lifetime);
    const finish = (clean = true): void => {
      clearTimeout(timer);
      stop();
      this.watches.delete(handle);
      if (clean && !res.writableEnded) res.end();
    };
    this.watches.add(handle);
    req.socket.on('close', () => finish(false));
    try {
      stop = this.store.watch(namespace, selector, fromRv, write);
    } catch (err) {
      // As the real server: a 200 stream carrying one ERROR event (410 Expired), then the end.
      if (err instanceof ApiError) write({ type: 'ERROR', object: err.status });
      finish();
      return;
    }
    (res.socket as Socket | null)?.setNoDelay(true);
  }
}

function send(res: ServerResponse, status: number, body: Pod | Status | object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage, optional = false): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text && optional) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
}
