import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the platform's public HTTP API, recording what the CLI sends. Used to test
 * the CLI's requests and output precisely; the real platform is covered by integration tests.
 */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface FakeFunction {
  name: string;
  runtime: string;
  handler: string;
  version: number;
  package: string;
  env: Record<string, string>;
  timeout: number;
  memory: number;
  idleTimeout: number;
  concurrency: number;
  maxInstances: number;
  url: string;
  instances: number;
  createdAt: string;
  updatedAt: string;
}

export interface FakePlatform {
  url: string;
  requests: RecordedRequest[];
  functions: Map<string, FakeFunction>;
  logs: { time: string; function: string; invocationId: string | null; stream: string; message: string }[];
  /** Pushes a log line to open --follow streams. */
  emitLog(entry: FakePlatform['logs'][number]): void;
  /** Resolves when a follow stream is open. */
  followers(): number;
  close(): Promise<void>;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-nimbus-error': code });
  res.end(JSON.stringify({ error: { code, message } }));
}

export async function startFakePlatform(): Promise<FakePlatform> {
  const requests: RecordedRequest[] = [];
  const functions = new Map<string, FakeFunction>();
  const logs: FakePlatform['logs'] = [];
  const follows = new Set<ServerResponse>();
  let base = '';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      let m: RegExpExecArray | null;

      if (req.method === 'POST' && path === '/api/v1/packages') {
        const sha256 = createHash('sha256').update(body).digest('hex');
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sha256, size: body.length, format: req.headers['x-nimbus-filename'] ? 'file' : 'tar.gz', files: 1, unpackedBytes: body.length }));
        return;
      }
      if (req.method === 'GET' && path === '/api/v1/functions') {
        const list = [...functions.values()].sort((a, b) => a.name.localeCompare(b.name));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ functions: list }));
        return;
      }
      if ((m = /^\/api\/v1\/functions\/([^/]+)\/logs$/.exec(path))) {
        const name = decodeURIComponent(m[1]!);
        if (!functions.has(name)) return sendError(res, 404, 'FUNCTION_NOT_FOUND', `No function named "${name}" is deployed.`);
        const entries = logs.filter((l) => l.function === name);
        if (url.searchParams.get('follow') === 'true') {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          for (const e of entries) res.write(JSON.stringify(e) + '\n');
          follows.add(res);
          res.on('close', () => follows.delete(res));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ logs: entries }));
        return;
      }
      if ((m = /^\/api\/v1\/functions\/([^/]+)$/.exec(path))) {
        const name = decodeURIComponent(m[1]!);
        const existing = functions.get(name);
        if (req.method === 'PUT') {
          let config: Record<string, unknown>;
          try {
            config = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          } catch {
            return sendError(res, 400, 'INVALID_JSON', 'The request body is not valid JSON.');
          }
          if (typeof config['package'] !== 'string') return sendError(res, 400, 'INVALID_REQUEST', 'package: required');
          if (config['handler'] === 'missing.js') return sendError(res, 400, 'HANDLER_NOT_FOUND', 'No file missing.js in the package.');
          const now = new Date().toISOString();
          const fn: FakeFunction = {
            name,
            runtime: (config['runtime'] as string) ?? 'node',
            handler: (config['handler'] as string) ?? 'index.js',
            version: (existing?.version ?? 0) + 1,
            package: config['package'] as string,
            env: (config['env'] as Record<string, string>) ?? {},
            timeout: (config['timeout'] as number) ?? 30,
            memory: (config['memory'] as number) ?? 256,
            idleTimeout: (config['idleTimeout'] as number) ?? 300,
            concurrency: (config['concurrency'] as number) ?? 64,
            maxInstances: (config['maxInstances'] as number) ?? 10,
            url: `${base}/fn/${name}`,
            instances: 0,
            createdAt: existing?.createdAt ?? now,
            updatedAt: now,
          };
          functions.set(name, fn);
          res.writeHead(existing ? 200 : 201, { 'content-type': 'application/json' });
          res.end(JSON.stringify(fn));
          return;
        }
        if (!existing) return sendError(res, 404, 'FUNCTION_NOT_FOUND', `No function named "${name}" is deployed.`);
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(existing));
          return;
        }
        if (req.method === 'DELETE') {
          functions.delete(name);
          res.writeHead(204);
          res.end();
          return;
        }
        return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Not allowed.');
      }
      if ((m = /^\/fn\/([^/]+)(\/.*)?$/.exec(path))) {
        const name = decodeURIComponent(m[1]!);
        const sub = m[2] ?? '/';
        if (!functions.has(name)) return sendError(res, 404, 'FUNCTION_NOT_FOUND', `No function named "${name}" is deployed.`);
        const headers = { 'x-nimbus-invocation-id': 'inv_0123456789abcdef' };
        if (sub === '/echo-bytes') {
          res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream' });
          res.end(body);
          return;
        }
        if (sub === '/teapot') {
          res.writeHead(418, { ...headers, 'content-type': 'text/plain' });
          res.end('short and stout');
          return;
        }
        if (sub === '/timeout') return sendError(res, 504, 'FUNCTION_TIMEOUT', 'The function did not answer within 1s.');
        res.writeHead(200, { ...headers, 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
        res.end(
          JSON.stringify({
            method: req.method,
            path: sub,
            query: url.search,
            headers: req.headers,
            body: body.toString('utf8'),
          }),
        );
        return;
      }
      sendError(res, 404, 'NOT_FOUND', `No route ${req.method} ${path}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    functions,
    logs,
    emitLog(entry) {
      logs.push(entry);
      for (const res of follows) res.write(JSON.stringify(entry) + '\n');
    },
    followers: () => follows.size,
    async close() {
      for (const res of follows) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
