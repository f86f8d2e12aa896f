/**
 * Two targets measured at the same time in fine alternation: one wrk process per target, both
 * started together, and only one of them running at a time, switched every {@link SLICE_MS} with
 * SIGSTOP and SIGCONT. On a shared VM the machine's speed swings within seconds (one identical
 * platform measured in 1 s slices ranged from 56 to 112 us of CPU per request from one second to
 * the next), so two targets measured one after the other for seconds each see different machines.
 * Switching every 100 ms gives both the same machine, slice by slice, and each target's figure is
 * what it completed over the time it was let run.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanEnv } from './child.js';
import { parseWrk, trackGenerator } from './load.js';

/** How long one target runs before the other takes over. */
export const SLICE_MS = 100;

/** One target's share of an interleaved run. */
export interface InterleavedSide {
  /** Requests completed. */
  requests: number;
  /** Seconds the target's generator was let run (its slices, and its last stretch until wrk stopped). */
  activeSeconds: number;
  /** requests / activeSeconds */
  requestsPerSecond: number;
  /** Answers outside 2xx/3xx, connection errors and timeouts. */
  failed: number;
}

/** A wrk process under our control, and its output so far. */
interface Runner {
  pid: number;
  output: string;
  exited: Promise<void>;
  activeMs: number;
}

function startWrk(url: string, connections: number, seconds: number): Runner {
  // One thread: on a 2-core machine the other core belongs to the servers under test. A request
  // may wait out the other target's slices and the end, so the timeout is far longer than those.
  const proc = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', url], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
  if (proc.pid === undefined) throw new Error('could not start wrk');
  const untrack = trackGenerator(proc);
  const runner: Runner = {
    pid: proc.pid,
    output: '',
    activeMs: 0,
    exited: new Promise((resolve, reject) => {
      proc.on('error', reject);
      proc.on('close', (code, signal) => {
        untrack();
        if (code === 0) resolve();
        else reject(new Error(`wrk ended with ${signal ?? `exit code ${code}`}`));
      });
    }),
  };
  proc.stdout.on('data', (chunk: Buffer) => (runner.output += chunk.toString('utf8')));
  // Awaited only at the end of the run: a wrk that fails before then, or is killed, must not end
  // the bench with an unhandled rejection first (the await still throws).
  runner.exited.catch(() => undefined);
  return runner;
}

/**
 * Loads `urls[0]` and `urls[1]` at `connections` each, alternately, in slices of `sliceMs`, until
 * each has run `secondsEach`; `first` runs the first slice. Each target's result counts what its
 * generator completed over the time it ran. Needs wrk.
 */
export async function interleave(
  urls: readonly [string, string],
  connections: number,
  secondsEach: number,
  first: 0 | 1 = 0,
  sliceMs = SLICE_MS,
): Promise<[InterleavedSide, InterleavedSide]> {
  const slices = Math.max(1, Math.round((secondsEach * 1000) / sliceMs));
  // Each wrk ends by its own deadline (a SIGINT may reach one of its threads that is not the one
  // waiting for the deadline, and then does not end it): one that passes while both are paused,
  // after the last slice, with a second to spare for the start.
  const deadlineSeconds = Math.ceil((2 * slices * sliceMs) / 1000) + 1;
  const spawnedAt = performance.now();
  const runners = urls.map((url) => startWrk(url, connections, deadlineSeconds)) as [Runner, Runner];
  for (const runner of runners) process.kill(runner.pid, 'SIGSTOP');
  try {
    const order = first === 0 ? runners : [runners[1], runners[0]];
    let due = performance.now();
    for (let slice = 0; slice < slices; slice++) {
      for (const runner of order) {
        const resumed = performance.now();
        process.kill(runner.pid, 'SIGCONT');
        due += sliceMs;
        await sleep(Math.max(0, due - performance.now()));
        process.kill(runner.pid, 'SIGSTOP');
        runner.activeMs += performance.now() - resumed;
      }
    }
    await sleep(Math.max(0, spawnedAt + deadlineSeconds * 1000 + 50 - performance.now()));
    // Past its deadline, a resumed wrk stops within its 100 ms bookkeeping tick and prints what it
    // did: each is let finish alone, and that last stretch counts as time it ran.
    for (const runner of order) {
      const resumed = performance.now();
      process.kill(runner.pid, 'SIGCONT');
      await runner.exited;
      runner.activeMs += performance.now() - resumed;
    }
  } catch (err) {
    for (const runner of runners) {
      try {
        process.kill(runner.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    throw err;
  }
  return runners.map((runner) => {
    const result = parseWrk(runner.output);
    const activeSeconds = runner.activeMs / 1000;
    return { requests: result.requests, activeSeconds, requestsPerSecond: result.requests / activeSeconds, failed: result.non2xx + result.errors };
  }) as [InterleavedSide, InterleavedSide];
}
