/**
 * Child-process helpers for the benchmark: every server under test runs in its own process, so
 * that no server shares an event loop (or a garbage collector) with the load generator or with
 * another server, and so that each can be measured and killed on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A child process started by the benchmark, with the tail of its output kept for error messages. */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The last lines the child wrote on stdout and stderr (bounded). */
  readonly tail: string[];
}

/** Every child started and not yet exited, so that an interrupted run can stop them all. */
const live = new Set<Child>();

/** Stop every child still running (each by its PID, as {@link stopChild} does). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child)));
}

/** How many output lines of a child to keep for error messages. */
const TAIL_LINES = 20;

/**
 * A clean environment for servers under test. NODE_EXTRA_CA_CERTS (set on this machine) adds
 * ~65 ms to every node start, and other variables could change a server's behaviour, so each
 * child gets PATH and nothing else.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
}

/** Start `command args` with a clean environment and keep the tail of its output. */
export function startChild(name: string, command: string, args: string[], cwd?: string): Child {
  const proc = spawn(command, args, {
    cwd,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  const tail: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    }
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  // A spawn error (e.g. ENOENT) is reported through waitForLine/exit; never crash the bench on it.
  proc.on('error', (err) => tail.push(`spawn error: ${err.message}`));
  const child: Child = { name, proc, pid: proc.pid, tail };
  live.add(child);
  proc.once('exit', () => live.delete(child));
  return child;
}

/**
 * Wait until the child writes a line matching `pattern` (on stdout or stderr, since a server may
 * log its banner to either) and return the match.
 * Rejects with the child's last output when it exits first or when `timeoutMs` passes.
 */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    // One partial-line buffer per stream, so interleaved writes never splice two lines together.
    const listeners: Array<[NodeJS.ReadableStream, (chunk: Buffer) => void]> = [];
    const cleanup = (): void => {
      clearTimeout(timer);
      for (const [stream, listener] of listeners) stream.off('data', listener);
      child.proc.off('exit', onExit);
    };
    const listen = (stream: NodeJS.ReadableStream | null): void => {
      if (!stream) return;
      let buffered = '';
      const onData = (chunk: Buffer): void => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const match = line.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
            return;
          }
        }
      };
      stream.on('data', onData);
      listeners.push([stream, onData]);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(new Error(`${child.name} exited (${signal ?? `code ${code}`}) before it was ready${lastOutput(child)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name} was not ready within ${timeoutMs} ms${lastOutput(child)}`));
    }, timeoutMs);
    listen(child.proc.stdout);
    listen(child.proc.stderr);
    child.proc.once('exit', onExit);
  });
}

function lastOutput(child: Child): string {
  const lines = child.tail.slice(-5);
  return lines.length === 0 ? '' : `; last output: ${lines.join(' | ')}`;
}

/** Whether a process with this PID is still alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stop a child by its PID: SIGTERM first so it can clean up (Nimbus stops its instances then),
 * SIGKILL after `graceMs`. Also kills, by PID, any descendant that is still alive afterwards, so
 * an instance orphaned by a crashing platform never outlives the benchmark.
 */
export async function stopChild(child: Child, graceMs = 3000): Promise<void> {
  const descendants = descendantsOf(child.pid);
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()));
    child.proc.kill('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs));
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.proc.kill('SIGKILL');
      await exited;
    }
  }
  for (const pid of descendants) {
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone between the check and the kill: nothing left to do.
      }
    }
  }
}

/** Parent PID of a process, read from /proc (Linux); undefined when it cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** All live descendants of `root` (children, grandchildren, ...), from a scan of /proc. */
export function descendantsOf(root: number): number[] {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
  } catch {
    return []; // Not Linux: the descendant sweep and RSS figures are simply skipped.
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const next = children.get(queue.shift() as number) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/**
 * A short label for a process: the script it runs (`shim.cjs`, `handler.py`) when there is one,
 * else its executable's name (`esbuild`), so memory figures say what they belong to.
 */
export function processLabel(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
    const script = argv.slice(1).find((arg) => /\.(c|m)?js$|\.py$/.test(arg));
    return base(script ?? argv[0] ?? String(pid));
  } catch {
    return String(pid);
  }
}

/** Resident set size of a process in MB (from /proc/<pid>/status), or undefined. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Run a compiled bench script (`dist/bench/<script>`) in its own process with a clean
 * environment, wait for it to exit, and parse the one JSON line it printed on stdout. It is
 * killed by PID when it outlives `timeoutMs`; rejects with its last output when it fails.
 */
export async function runForJson<T>(name: string, script: string, args: string[], timeoutMs: number): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = startChild(name, process.execPath, [path, ...args]);
  let out = '';
  child.proc.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  let timer: NodeJS.Timeout | undefined;
  try {
    const exit = new Promise<number | null>((resolve) => child.proc.once('exit', (code) => resolve(code)));
    const late = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const code = await Promise.race([exit, late]);
    if (code === 'timeout') throw new Error(`${name} still running after ${timeoutMs} ms`);
    if (code !== 0) throw new Error(`${name} exited with ${code}${lastOutput(child)}`);
    const line = out.trim().split('\n').at(-1) ?? '';
    return JSON.parse(line) as T;
  } finally {
    clearTimeout(timer); // a pending timer would keep the bench alive after its report
    await stopChild(child);
  }
}
