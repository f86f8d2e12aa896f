import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { LogGuard } from '../integration/log-guard.js';

/** The compiled CLI entry point (dist/src/cli/main.js). */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Makes a temp dir; remove it with the returned cleanup. */
export async function tempDir(prefix = 'nimbus-cli-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Writes a tree of files: `{ 'a/b.js': 'text' }`. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

class Collector extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export interface MemoryIO extends CliIO {
  stdoutBytes(): Buffer;
  stdoutText(): string;
  stderrText(): string;
  /** Fires the registered signal handlers, as Ctrl-C would. */
  signal(sig?: 'SIGINT' | 'SIGTERM'): void;
  exits: number[];
}

/** A CliIO writing to memory, for running commands in-process. */
export function memoryIO(options: { env?: Record<string, string>; tty?: boolean; cwd?: string; stdin?: string | Buffer } = {}): MemoryIO {
  const stdout = new Collector();
  const stderr = new Collector();
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const handlers = new Set<(s: 'SIGINT' | 'SIGTERM') => void>();
  const exits: number[] = [];
  return {
    stdout,
    stderr,
    stdin,
    env: options.env ?? {},
    stdoutIsTTY: options.tty ?? false,
    stderrIsTTY: false,
    cwd: options.cwd ?? process.cwd(),
    onSignal(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    exit(code: number): never {
      exits.push(code);
      throw new Error(`exit(${code})`);
    },
    exits,
    signal(sig = 'SIGINT') {
      for (const h of [...handlers]) h(sig);
    },
    stdoutBytes: () => stdout.buffer(),
    stdoutText: () => stdout.buffer().toString('utf8'),
    stderrText: () => stderr.buffer().toString('utf8'),
  };
}

/** Runs the CLI in-process; answers the exit code and the captured output. */
export async function runInProcess(
  args: string[],
  options: Parameters<typeof memoryIO>[0] = {},
): Promise<{ code: number; stdout: string; stdoutBytes: Buffer; stderr: string; io: MemoryIO }> {
  const io = memoryIO(options);
  const code = await runCli(args, io);
  return { code, stdout: io.stdoutText(), stdoutBytes: io.stdoutBytes(), stderr: io.stderrText(), io };
}

export interface SpawnResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** A config folder with nothing in it, so spawned CLIs never read the user's `nimbus login`. */
const NO_CONFIG = join(tmpdir(), 'nimbus-test-no-config');

/** Environment for a spawned CLI: no inherited NIMBUS_* settings nor saved login, no colours. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NIMBUS_')) env[k] = v;
  return { ...env, NO_COLOR: '1', XDG_CONFIG_HOME: NO_CONFIG, ...extra };
}

/** Runs `node dist/src/cli/main.js <args>` to completion. */
export function runNimbus(
  args: string[],
  options: { input?: string | Buffer; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      env: childEnv(options.env),
      cwd: options.cwd ?? process.cwd(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A long-running CLI process (nimbus up, logs --follow) whose output can be awaited. */
export interface RunningCli {
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  signal(sig: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  /** The pino error lines on its stderr (a `nimbus up` platform logs there). */
  guard: LogGuard;
  /**
   * Kills it if still running, waits for the exit, and throws when its log has an internal error
   * not in `expectErrors`: the guard of every `nimbus up` a test starts.
   */
  close(): Promise<void>;
}

export function startNimbus(args: string[], options: { env?: Record<string, string>; cwd?: string; expectErrors?: RegExp[] } = {}): RunningCli {
  const guard = new LogGuard(options.expectErrors);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: childEnv(options.env),
    cwd: options.cwd ?? process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const kill = (): void => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    guard.feed(c);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then all of stderr has been read, so the guard has seen every line.
    child.on('close', (code, signal) => {
      for (const w of [...waiters]) w();
      resolve({ code, signal });
    }),
  );
  return {
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = out.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`process exited before printing ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; stdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    signal: (sig) => void child.kill(sig),
    exited,
    kill,
    guard,
    async close() {
      kill();
      await exited;
      guard.assertClean(`nimbus ${args.join(' ')}`);
    },
  };
}

/** Retries `fn` until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs}ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
