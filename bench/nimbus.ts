/**
 * Target (c): the examples/hello function invoked through Nimbus. Starts the platform as a child
 * process (`nimbus up --port 0`), deploys through the public HTTP API exactly as a user would, and
 * measures scale-from-zero cold starts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { create as createTar } from 'tar';
import { Client } from 'undici';
import { startChild, stopChild, waitForLine, type Child } from './child.js';

/** The repository root (this file runs from dist/bench/). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The platform's CLI, as built by `npm run build`. */
const CLI = `${ROOT}dist/src/cli/main.js`;
/** The function the benchmark deploys. */
export const HELLO_DIR = `${ROOT}examples/hello`;
/** The Python function whose cold starts are measured (`def handler(event, context)`). */
export const PYTHON_DIR = `${ROOT}examples/python`;

/** A running platform: its origin (always on 127.0.0.1), its process and the sandbox it uses. */
export interface Nimbus {
  readonly origin: string;
  readonly child: Child;
  /** `bubblewrap` or `process`, as `nimbus up` reported it. */
  readonly sandbox: string;
}

/**
 * Start `nimbus up` on a free port with its own data directory (and `extraArgs`, e.g.
 * `--sandbox process`); rejects with a readable reason.
 */
export async function startNimbus(dataDir: string, extraArgs: string[] = [], timeoutMs = 30_000): Promise<Nimbus> {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist (the CLI is not built yet)`);
  const child = startChild('nimbus', process.execPath, [CLI, 'up', '--port', '0', '--data-dir', dataDir, ...extraArgs], ROOT);
  try {
    const match = await waitForLine(child, /^Nimbus serving on (\S+)/, timeoutMs);
    // The status lines arrive together; the sandbox line follows the address.
    let sandboxLine: string | undefined;
    for (let i = 0; i < 100 && !(sandboxLine = child.tail.find((line) => line.startsWith('Sandbox: '))); i++) await sleep(10);
    const url = new URL(match[1] ?? '');
    // The benchmark only ever sends traffic to the loopback address, whatever name was printed.
    if (!['127.0.0.1', 'localhost', '0.0.0.0', '[::]', '[::1]'].includes(url.hostname)) {
      throw new Error(`Nimbus serves on ${url.host}, not on the loopback interface`);
    }
    const origin = `http://127.0.0.1:${url.port}`;
    // The management API needs the admin token that `nimbus up` wrote at its first start.
    adminTokens.set(origin, readFileSync(`${dataDir}/admin.token`, 'utf8').trim());
    return { origin, child, sandbox: sandboxLine?.split(/\s+/)[1] ?? 'unknown' };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** Pack a folder (without node_modules) into a tar.gz in memory, with node-tar. */
export async function packDir(dir: string): Promise<Buffer> {
  const files = readdirSync(dir).filter((name) => name !== 'node_modules');
  const chunks: Buffer[] = [];
  // portable: no uid/gid/mtime noise, so the same code always hashes to the same package.
  for await (const chunk of createTar({ gzip: true, cwd: dir, portable: true }, files)) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** The admin token of each platform started here, by origin. */
const adminTokens = new Map<string, string>();

/** Makes the API calls here use the admin token of a platform started otherwise (in this process). */
export function useAdminToken(origin: string, dataDir: string): void {
  adminTokens.set(origin, readFileSync(`${dataDir}/admin.token`, 'utf8').trim());
}

/** Call the management API; rejects with the status and the platform's error body. */
async function api(origin: string, method: string, path: string, body?: Buffer | object): Promise<unknown> {
  const isBytes = Buffer.isBuffer(body);
  const auth = { authorization: `Bearer ${adminTokens.get(origin) ?? ''}` };
  const res = await fetch(`${origin}${path}`, {
    method,
    ...(body === undefined
      ? { headers: auth }
      : { headers: { ...auth, 'content-type': isBytes ? 'application/gzip' : 'application/json' }, body: isBytes ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

/** `GET` a management API path (with the admin token); the parsed JSON answer. */
export function apiGet(origin: string, path: string): Promise<unknown> {
  return api(origin, 'GET', path);
}

/** `POST` a JSON body to a management API path (with the admin token); the parsed JSON answer. */
export function apiPost(origin: string, path: string, body: object): Promise<unknown> {
  return api(origin, 'POST', path, body);
}

/** `GET` a path with the admin token (e.g. `/metrics`); the answer's text. */
export async function getText(origin: string, path: string): Promise<string> {
  const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${adminTokens.get(origin) ?? ''}` }, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Upload a package; returns its sha256. */
export async function uploadPackage(origin: string, archive: Buffer): Promise<string> {
  const answer = (await api(origin, 'POST', '/api/v1/packages', archive)) as { sha256?: unknown };
  if (typeof answer.sha256 !== 'string') throw new Error(`package upload answered no sha256: ${JSON.stringify(answer)}`);
  return answer.sha256;
}

/**
 * Create or redeploy a function; every call makes a new version, which starts new instances.
 * `settings` are further deploy fields (e.g. `concurrency`, `maxInstances`).
 */
export async function deployFunction(
  origin: string,
  name: string,
  sha: string,
  env: Record<string, string> = {},
  settings: Record<string, unknown> = {},
): Promise<void> {
  await api(origin, 'PUT', `/api/v1/functions/${encodeURIComponent(name)}`, { ...settings, package: sha, env });
}

/** Delete a function; its instances stop once their in-flight requests are done. */
export async function deleteFunction(origin: string, name: string): Promise<void> {
  await api(origin, 'DELETE', `/api/v1/functions/${encodeURIComponent(name)}`);
}

/** The running instances of a function, from `GET /api/v1/functions/<name>` (field `instances`). */
export async function instanceCount(origin: string, name: string): Promise<number> {
  const view = (await api(origin, 'GET', `/api/v1/functions/${encodeURIComponent(name)}`)) as { instances?: unknown };
  if (typeof view.instances !== 'number') throw new Error(`function ${name} has no numeric "instances" field`);
  return view.instances;
}

/** Send `count` requests one by one and check they succeed (JIT, connection pools, instance). */
export async function warmUp(url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`warm-up request answered ${res.status}: ${text.slice(0, 300)}`);
  }
}

/** One measured cold start. */
export interface ColdStartSample {
  /** Milliseconds from sending the request to the response headers (its first bytes). */
  ms: number;
  status: number;
  /** The `x-nimbus-cold-start` response header, when the platform sets it. */
  coldStartHeader: string | null;
  /** The `server-timing` response header, when the platform sets it (phase timings). */
  serverTiming: string | null;
}

/**
 * Measure `runs` scale-from-zero cold starts of package `sha`. Each run deploys it as a function
 * that never existed before (`<name>-cold-<i>`: no instance, no scaling history; the deploy is not
 * timed and reuses the cached build), lets the machine settle, times one request, then deletes
 * the function. A redeploy of one function would not do: the autoscaler starts the new version's
 * instance of a recently busy function on its own, so the timed request could find it warm.
 *
 * The settle pause keeps the previous run's shutdown and any pool refill from competing for the
 * CPU with the start being measured: the figure is a cold start on an otherwise idle machine.
 */
export async function measureColdStarts(
  origin: string,
  name: string,
  sha: string,
  runs: number,
  settleMs = 300,
  /** Deploy settings of each function (e.g. the network policy). */
  settings: Record<string, unknown> = {},
): Promise<ColdStartSample[]> {
  // One keep-alive connection, opened before the timed request, so TCP setup is not counted.
  const client = new Client(origin, { keepAliveTimeout: 60_000, pipelining: 1 });
  const samples: ColdStartSample[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const fresh = `${name}-cold-${i}`;
      await deployFunction(origin, fresh, sha, {}, settings);
      await sleep(settleMs);
      const probe = await client.request({ method: 'GET', path: '/healthz' });
      await probe.body.dump();
      const started = performance.now();
      // undici resolves request() as soon as the status line and headers have arrived.
      const res = await client.request({ method: 'GET', path: `/fn/${fresh}`, headersTimeout: 60_000 });
      const ms = performance.now() - started;
      const text = await res.body.text();
      await deleteFunction(origin, fresh);
      if (res.statusCode !== 200) throw new Error(`cold start ${i} answered ${res.statusCode}: ${text.slice(0, 300)}`);
      samples.push({ ms, status: res.statusCode, coldStartHeader: header(res.headers, 'x-nimbus-cold-start'), serverTiming: header(res.headers, 'server-timing') });
    }
  } finally {
    await client.close();
  }
  return samples;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const value = headers[name];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/** Stop the platform (and, by PID, anything it left running). */
export function stopNimbus(nimbus: Nimbus): Promise<void> {
  return stopChild(nimbus.child, 5000);
}
