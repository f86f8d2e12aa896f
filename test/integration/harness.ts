import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import * as tar from 'tar';
import { request } from 'undici';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';
import { LogGuard } from './log-guard.js';
import { createServer as createNetServer } from 'node:net';

/** Repository root (this file runs from dist/test/integration). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const EXAMPLES = join(ROOT, 'examples');

/** A platform started for a test, on port 0 with a temporary data dir. */
export interface TestPlatform {
  url: string;
  dataDir: string;
  /** The admin token (from `<dataDir>/admin.token`); the API helpers below send it by themselves. */
  token: string;
  server: RunningServer;
  /** What the platform logged at level error (expected or not). */
  guard: LogGuard;
  /** Stops the platform; throws when it logged an internal error the test did not expect. */
  close(): Promise<void>;
}

/** Options of {@link startPlatform}: the server's, minus the logger, which the harness owns. */
export interface PlatformOptions extends Omit<ServerOptions, 'logger'> {
  /** Leave the data dir in place after close. */
  keepData?: boolean;
  /** Internal errors this test provokes on purpose (matched against the JSON log line). */
  expectErrors?: RegExp[];
  /** Also write the platform's log here (pino JSON lines). */
  logStream?: Writable;
  /** Level of what goes to `logStream`. @default info */
  logLevel?: string;
}

/** Admin token of each platform started here, by URL, so the API helpers can send it. */
const adminTokens = new Map<string, string>();

/** `authorization` header with the admin token of the platform at `url` (for direct API requests). */
/** The admin token header of the platform started last (for raw requests built without a URL). */
export function latestAuthHeaders(): Record<string, string> {
  const token = [...adminTokens.values()].at(-1);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

export function authHeaders(url: string): Record<string, string> {
  const token = adminTokens.get(url);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** Makes the API helpers send the admin token of a platform started elsewhere (e.g. `nimbus up` in a child). */
export async function useAdminToken(url: string, dataDir: string): Promise<string> {
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  adminTokens.set(url, token);
  return token;
}

/**
 * Starts a real platform; `close` stops it, removes its data dir unless `keepData`, and fails
 * (throws) when the platform logged an internal error not listed in `expectErrors`: every test
 * that starts a platform is guarded, not only those that read the log.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<TestPlatform> {
  const { keepData, expectErrors, logStream, logLevel, ...serverOptions } = options;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'nimbus-test-')));
  const guard = new LogGuard(expectErrors);
  // Only error lines matter to the guard; a test that reads the log asks for more.
  const logger = pino({ level: logStream ? (logLevel ?? 'info') : 'error', base: undefined }, guard.stream(logStream));
  const server = await startServer({ port: 0, scaleIntervalMs: 100, ...serverOptions, dataDir, logger });
  const token = await useAdminToken(server.url, dataDir);
  return {
    url: server.url,
    dataDir,
    token,
    server,
    guard,
    async close() {
      await server.close();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
      guard.assertClean(`the platform at ${server.url}`);
    },
  };
}

/** Writes files into a fresh temporary folder and returns its path. */
export async function writeFunction(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-fn-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

/** Packs a folder as tar.gz bytes. */
export async function packFolder(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = tar.c({ gzip: true, cwd: dir, portable: true }, ['.']);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * A JSON API call, with the platform's admin token unless `options.token` says which token to
 * send (`null`: none).
 */
export async function api(url: string, method: string, path: string, body?: unknown, options: { token?: string | null } = {}) {
  const auth = options.token === undefined ? authHeaders(url) : options.token === null ? {} : { authorization: `Bearer ${options.token}` };
  const res = await request(`${url}${path}`, {
    method: method as 'GET',
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** Uploads raw package bytes. */
export async function upload(url: string, bytes: Buffer, filename?: string) {
  const res = await request(`${url}/api/v1/packages`, {
    method: 'POST',
    headers: { ...authHeaders(url), 'content-type': 'application/octet-stream', ...(filename ? { 'x-nimbus-filename': filename } : {}) },
    body: bytes,
  });
  return { status: res.statusCode, headers: res.headers, json: (await res.body.json()) as Record<string, any> };
}

/** Uploads a folder (or a single file) and deploys it; throws unless the deploy succeeds. */
export async function deploy(url: string, name: string, source: string | { file: string; content: string | Buffer }, config: Record<string, unknown> = {}) {
  const uploaded = typeof source === 'string' ? await upload(url, await packFolder(source)) : await upload(url, Buffer.from(source.content), source.file);
  if (uploaded.status !== 201) throw new Error(`upload failed: ${uploaded.status} ${JSON.stringify(uploaded.json)}`);
  const res = await api(url, 'PUT', `/api/v1/functions/${name}`, { package: uploaded.json.sha256, ...config });
  if (res.status !== 200 && res.status !== 201) throw new Error(`deploy failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json!;
}

/** Invokes a function and reads the whole response. */
export async function invoke(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const res = await request(`${url}/fn/${path}`, {
    method: (options.method ?? (options.body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: options.headers ?? {},
    body: options.body ?? null,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') };
}

/** Installs an example's npm dependencies once (needs the npm registry). */
export function installExample(name: string): string {
  const dir = join(EXAMPLES, name);
  if (!existsSync(join(dir, 'node_modules'))) {
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'ignore' });
  }
  return dir;
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes. The bound is generous on purpose: it
 * is reached only when the awaited event never comes, not when the machine is busy.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that is free now (for a server a test wants at a known address). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

