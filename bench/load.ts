/**
 * The load generator, always an external process: `wrk` when installed (C, multi-threaded
 * capable, cheapest per request), else autocannon run through its CLI in a separate node process.
 * Either way the generator never shares an event loop with a server under test, and every target
 * in one run is measured with the same generator, so the figures can be compared side by side.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cleanEnv } from './child.js';
import { parseUnexpected, writeWrkScript } from './wrk-request.js';

/** One measured case. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Total requests completed in the measured period. */
  requests: number;
  /** Responses with a status outside 2xx/3xx: a non-zero count means the figures are suspect. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /**
   * With a {@link RequestSpec}: how many answers had another status than the one expected (a
   * 200 where a 202 was expected counts, although it is a 2xx). Such figures do not count.
   */
  unexpected?: { expected: number; count: number };
}

/** A request other than a bare GET, and the status every answer must have. */
export interface RequestSpec {
  method: string;
  headers: Readonly<Record<string, string>>;
  body: string;
  /** The status every answer must have; the others are counted in {@link LoadResult.unexpected}. */
  expectStatus: number;
  /** A folder for the generator's files (wrk's Lua script): the run's temporary folder. */
  scratchDir: string;
}

/** A load generator: its name, and a function that measures one URL at one concurrency. */
export interface LoadGenerator {
  readonly name: string;
  /** Measures `url`; with `request`, sends that request instead of a GET and checks every status. */
  run(url: string, connections: number, seconds: number, request?: RequestSpec): Promise<LoadResult>;
}

/** Generator processes still running, so an interrupted bench can kill them by PID. */
const generators = new Set<ChildProcess>();

/** Counts a generator process started elsewhere (bench/interleave.ts) among those {@link stopGenerators} kills; the returned function forgets it. */
export function trackGenerator(proc: ChildProcess): () => void {
  generators.add(proc);
  return () => generators.delete(proc);
}

/** Kill every load-generator process still running (on Ctrl-C or an error). */
export function stopGenerators(): void {
  for (const proc of generators) proc.kill('SIGKILL');
  generators.clear();
}

/** Run a program and return its stdout; rejects with stderr on a non-zero exit. */
function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = execFile(
      command,
      args,
      { env: cleanEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        generators.delete(proc);
        if (err) reject(new Error(`${command} failed: ${err.message} ${stderr.trim()}`));
        else resolve(stdout);
      },
    );
    generators.add(proc);
  });
}

/** Whether `wrk` is on PATH (it prints its usage and exits 1 when run bare, so probe -v). */
async function hasWrk(): Promise<boolean> {
  try {
    await run('wrk', ['-v'], 5000);
    return true;
  } catch (err) {
    // `wrk -v` exits with 1 after printing its version on some builds: that still means present.
    return err instanceof Error && !/ENOENT/.test(err.message);
  }
}

/** wrk prints durations as e.g. `812.00us`, `1.21ms`, `2.00s`; convert to milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = text.trim().match(/^([\d.]+)(us|ms|s|m)$/);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  const unit = match[2];
  if (unit === 'us') return value / 1000;
  if (unit === 'ms') return value;
  if (unit === 's') return value * 1000;
  return value * 60_000;
}

/** Parse the output of `wrk --latency`. Exported for tests. */
export function parseWrk(output: string): LoadResult {
  const number = (pattern: RegExp): number => Number(output.match(pattern)?.[1] ?? Number.NaN);
  const socketErrors = output.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors = socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: parseWrkDuration(output.match(/^\s+50%\s+(\S+)/m)?.[1] ?? ''),
    p99Ms: parseWrkDuration(output.match(/^\s+99%\s+(\S+)/m)?.[1] ?? ''),
    requests: number(/(\d+) requests in/),
    non2xx: output.match(/Non-2xx or 3xx responses:\s+(\d+)/) ? number(/Non-2xx or 3xx responses:\s+(\d+)/) : 0,
    errors,
  };
}

const wrk: LoadGenerator = {
  name: 'wrk',
  async run(url, connections, seconds, request) {
    // One thread: on a 2-core machine the second core belongs to the server under test.
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
    if (request === undefined) return parseWrk(await run('wrk', [...args, url], (seconds + 30) * 1000));
    // wrk's Lua: the request, and a response() that counts unexpected statuses (see wrk-request.ts).
    const script = writeWrkScript(request);
    const output = await run('wrk', [...args, '-s', script, url, '--', String(request.expectStatus)], (seconds + 30) * 1000);
    return { ...parseWrk(output), unexpected: { expected: request.expectStatus, count: parseUnexpected(output) } };
  },
};

/** The subset of autocannon's `--json` output that is read here. */
interface AutocannonJson {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Answers by status code. */
  statusCodeStats?: Record<string, { count: number }>;
}

/** autocannon through its CLI in a child process (node, clean env), reading its JSON result. */
function autocannon(): LoadGenerator {
  const require = createRequire(import.meta.url);
  const cli = join(dirname(require.resolve('autocannon/package.json')), 'autocannon.js');
  return {
    name: 'autocannon',
    async run(url, connections, seconds, request) {
      const args = [cli, '--json', '-c', String(connections), '-d', String(seconds)];
      if (request !== undefined) {
        args.push('-m', request.method, '-b', request.body);
        for (const [name, value] of Object.entries(request.headers)) args.push('-H', `${name}=${value}`);
      }
      const json = JSON.parse(await run(process.execPath, [...args, url], (seconds + 30) * 1000)) as AutocannonJson;
      const result: LoadResult = {
        requestsPerSecond: json.requests.total / json.duration,
        p50Ms: json.latency.p50,
        p99Ms: json.latency.p99,
        requests: json.requests.total,
        non2xx: json.non2xx,
        errors: json.errors + json.timeouts,
      };
      if (request !== undefined) {
        const others = Object.entries(json.statusCodeStats ?? {}).filter(([status]) => Number(status) !== request.expectStatus);
        result.unexpected = { expected: request.expectStatus, count: others.reduce((sum, [, stats]) => sum + stats.count, 0) };
      }
      return result;
    },
  };
}

/** Pick the load generator: wrk when installed, else autocannon (or autocannon when forced). */
export async function chooseGenerator(forceAutocannon = false): Promise<LoadGenerator> {
  return !forceAutocannon && (await hasWrk()) ? wrk : autocannon();
}

/**
 * Measure one case: a warm-up run whose figures are discarded (JIT, connection pools, lazy
 * initialisation), then the measured run.
 */
export async function measure(
  generator: LoadGenerator,
  url: string,
  connections: number,
  seconds: number,
  warmupSeconds: number,
  request?: RequestSpec,
): Promise<LoadResult> {
  if (warmupSeconds > 0) await generator.run(url, connections, warmupSeconds, request);
  return generator.run(url, connections, seconds, request);
}
