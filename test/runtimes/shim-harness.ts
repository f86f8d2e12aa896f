/**
 * Test helper: starts a runtime shim the way the platform does (clean env, control pipe on fd 3),
 * and talks the runtime protocol to it over its unix socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { InitRequest, LogLine } from '../../src/core/runtime-protocol.js';
import type { RuntimeName } from '../../src/core/spec.js';
import { runtimeAdapters } from '../../src/runtime-adapters/index.js';

/** A response, fully read. */
export interface ShimResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json(): any;
}

/** Options of {@link Shim.request}. */
export interface RequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string> | string[];
  body?: string | Buffer | Readable;
  /** Sets x-nimbus-invocation-id. */
  id?: string;
  signal?: AbortSignal;
}

/** Writes `files` (relative path -> content) into a fresh temp dir and returns its path. */
export function writeFixtures(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-fn-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** A running shim process. */
export class Shim {
  /** Every LogLine seen on stdout or stderr, in arrival order. */
  readonly logs: LogLine[] = [];
  /** Output lines that were not JSON LogLines (should stay empty). */
  readonly rawLines: string[] = [];
  /** Directories removed by stop() (fixtures). */
  readonly tempDirs: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly pool: Pool;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly child: ChildProcess,
    readonly socketPath: string,
    private readonly socketDir: string,
  ) {
    this.pool = new Pool('http://localhost', { socketPath, connections: 8, headersTimeout: 0, bodyTimeout: 0 });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.rawLines.push(line);
        }
        for (const notify of this.listeners) notify();
      });
    }
  }

  /** The control channel (fd 3 in the shim). */
  get control(): Readable {
    return this.child.stdio[3] as Readable;
  }

  /** Sends a request and reads the whole response. */
  async request(options: RequestOptions = {}): Promise<ShimResponse> {
    let headers: Record<string, string> | string[] = options.headers ?? {};
    if (options.id) headers = Array.isArray(headers) ? [...headers, 'x-nimbus-invocation-id', options.id] : { ...headers, 'x-nimbus-invocation-id': options.id };
    const res = await this.pool.request({
      method: (options.method ?? 'GET') as 'GET',
      path: options.path ?? '/',
      headers,
      body: options.body ?? null,
      signal: options.signal,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return {
      status: res.statusCode,
      headers: res.headers as Record<string, string | string[] | undefined>,
      body,
      text: () => body.toString('utf8'),
      json: () => JSON.parse(body.toString('utf8')),
    };
  }

  /** Sends `POST /__nimbus/init`. */
  init(init: Partial<InitRequest> & { codeDir: string; entry: string }): Promise<ShimResponse> {
    const body: InitRequest = { function: 'fn', version: 3, env: {}, timeoutMs: 30_000, memoryMb: 128, ...init };
    return this.request({ method: 'POST', path: '/__nimbus/init', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  /** Waits for a LogLine matching `match` (already seen or still to come). */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.logs.find(match);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${timeoutMs} ms; got ${JSON.stringify(this.logs)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      if (!check()) this.listeners.add(check);
    });
  }

  /** Log lines of one invocation and stream, as text. */
  lines(id: string | null, s: 'out' | 'err' = 'out'): string[] {
    return this.logs.filter((l) => l.id === id && l.s === s).map((l) => l.m);
  }

  /** Kills the process (if still running) and removes its files. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    await this.pool.destroy().catch(() => undefined);
    for (const dir of [this.socketDir, ...this.tempDirs]) rmSync(dir, { recursive: true, force: true });
  }
}

/** Spawns a shim as the platform does (clean env, control channel on fd 3), without waiting. */
export function spawnShim(runtime: RuntimeName, memoryMb = 128): Shim {
  const socketDir = mkdtempSync(join(tmpdir(), 'nimbus-sock-'));
  const socketPath = join(socketDir, 'fn.sock');
  const { command, args } = runtimeAdapters[runtime].command({ memoryMb });
  const child = spawn(command, args, {
    env: { PATH: '/usr/bin:/bin', NIMBUS_SOCKET: socketPath },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  return new Shim(child, socketPath, socketDir);
}

/** Starts a generic (not yet initialised) shim and waits for its ready line. */
export async function startShim(runtime: RuntimeName, memoryMb = 128): Promise<Shim & { readyMs: number }> {
  const started = performance.now();
  const shim = spawnShim(runtime, memoryMb);
  const ready = await new Promise<string>((resolve, reject) => {
    let text = '';
    shim.control.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    shim.exited.then(({ code, signal }) => reject(new Error(`shim exited before ready (${code ?? signal}): ${JSON.stringify(shim.logs)} ${shim.rawLines.join('\n')}`)), reject);
  });
  if (ready !== '{"type":"ready"}') throw new Error(`unexpected control message ${ready}`);
  return Object.assign(shim, { readyMs: performance.now() - started });
}

/** Writes the fixtures, starts a shim and initialises it with `entry`; asserts init succeeded. */
export async function startFunction(
  runtime: RuntimeName,
  files: Record<string, string | Buffer>,
  init: Partial<InitRequest> & { entry: string },
): Promise<{ shim: Shim; codeDir: string; form: string; loadMs: number }> {
  const codeDir = writeFixtures(files);
  const shim = await startShim(runtime, init.memoryMb ?? 128);
  shim.tempDirs.push(codeDir);
  const res = await shim.init({ codeDir, ...init });
  if (res.status !== 200) {
    await shim.stop();
    throw new Error(`init failed: ${res.status} ${res.text()} ${JSON.stringify(shim.logs)}`);
  }
  const { form, loadMs } = res.json() as { form: string; loadMs: number };
  return { shim, codeDir, form, loadMs };
}

/**
 * Upper bound for an event a test waits for (an exit, a chunk): generous, because reaching it means
 * the event never came, not that the machine was slow. Speed is the benchmark's business.
 */
export const EVENT_LIMIT_MS = 20_000;

/** `promise`'s value, or a rejection naming `what` after `limitMs`. */
export async function within<T>(promise: Promise<T>, limitMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** All 256 byte values plus invalid UTF-8 sequences: a body that must not be decoded as text. */
export const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80])]);
