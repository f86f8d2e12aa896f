/**
 * The burst case: 200 requests arriving at once at a function that has no instance (a new
 * version), with `concurrency: 10` and `maxInstances: 30`, so the platform must start ~20
 * instances in parallel while the requests wait. The generator runs in its own process
 * (burst-client.ts); this process polls `GET /api/v1/functions/<name>` every ~20 ms meanwhile to
 * find the peak number of instances. Afterwards the function is deleted and the case waits until
 * its instances' processes are gone, so that the next stage (the async accept) does not measure
 * the stopping of some 25 instances beside its own work.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BurstReport } from './burst-client.js';
import { descendantsOf, runForJson } from './child.js';
import { deleteFunction, deployFunction, instanceCount, packDir, uploadPackage, warmUp } from './nimbus.js';
import { quantile } from './report.js';

/** The case's parameters. */
export const BURST = { name: 'burst', requests: 200, concurrency: 10, maxInstances: 30, handlerMs: 50, pollMs: 20 };

/** A node function that waits ~50 ms then answers, so the requests of the burst overlap. */
const SOURCE = `export default {
  async fetch() {
    await new Promise((resolve) => setTimeout(resolve, ${BURST.handlerMs}));
    return new Response('done');
  },
};
`;

/** What the burst measured; written as-is to latest.json. */
export interface BurstSummary {
  requests: number;
  concurrency: number;
  maxInstances: number;
  handlerMs: number;
  /** Instances of the function just before the burst (0 = scaled to zero, as intended). */
  instancesBefore: number;
  /** From sending the first request to the end of the last response. */
  completionMs: number;
  /** Latency of the 2xx answers, sent -> end of body. */
  p50Ms: number;
  p99Ms: number;
  /** The first answer: a request served as soon as the first instance was up. */
  minMs: number;
  maxMs: number;
  ok: number;
  /** Non-2xx answers plus socket errors. */
  errors: number;
  /** How often each `x-nimbus-error` code (or socket error name, or `HTTP <status>`) was seen. */
  errorCodes: Record<string, number>;
  peakInstances: number;
  /** When the peak was first seen, ms since the burst started. */
  peakAtMs: number;
  instancesAfter: number;
  polls: number;
  /** Polls answered between the first request and the last answer (the API shares the platform's loop). */
  pollsDuringBurst: number;
  pollErrors: number;
  /** Each change of the instance count: ms since the burst started (negative: before it). */
  timeline: Array<{ ms: number; instances: number }>;
  /** Processes below the platform before the burst, and after the function was deleted. */
  processesBefore: number;
  processesAfterRemoval: number;
  /** From the delete's answer until the processes below the platform were back to `processesBefore` or fewer (or the wait gave up). */
  removalMs: number;
}

/** How long the case waits for the deleted function's instances to stop. */
const REMOVAL_TIMEOUT_MS = 30_000;

/** Poll the instance count every `pollMs` until `stop` is set; tolerates failing polls. */
async function poll(origin: string, stop: { done: boolean }): Promise<{ samples: Array<{ at: number; n: number }>; errors: number }> {
  const samples: Array<{ at: number; n: number }> = [];
  let errors = 0;
  while (!stop.done) {
    const next = performance.now() + BURST.pollMs;
    try {
      samples.push({ at: performance.timeOrigin + performance.now(), n: await instanceCount(origin, BURST.name) });
    } catch {
      errors++;
    }
    await sleep(Math.max(0, next - performance.now()));
  }
  return { samples, errors };
}

/** Reads `count` every 50 ms until it is at most `target` or `timeoutMs` passed; answers the last count and the time waited. */
async function waitForCount(count: () => number | Promise<number>, target: number, timeoutMs: number): Promise<{ n: number; ms: number }> {
  const started = performance.now();
  let n = await count();
  while (n > target && performance.now() - started < timeoutMs) {
    await sleep(50);
    n = await count();
  }
  return { n, ms: performance.now() - started };
}

/** Run the generator process and return its report; it is killed if it outlives `timeoutMs`. */
function runGenerator(origin: string, timeoutMs: number): Promise<BurstReport> {
  return runForJson<BurstReport>('burst generator', 'burst-client.js', [origin, `/fn/${BURST.name}`, String(BURST.requests)], timeoutMs);
}

/**
 * Deletes the burst function, then waits until the processes below the platform (`platformPid`)
 * number `baseline` or fewer: the platform stops a deleted function's instances after the delete
 * has answered. Answers the count at the end and the time waited.
 */
async function removeBurst(origin: string, platformPid: number, baseline: number): Promise<{ n: number; ms: number }> {
  await deleteFunction(origin, BURST.name);
  return waitForCount(() => descendantsOf(platformPid).length, baseline, REMOVAL_TIMEOUT_MS);
}

/** Deploy the burst function, scale it to zero, fire the burst, summarise it, and remove the function. */
export async function measureBurst(origin: string, fnDir: string, platformPid: number): Promise<BurstSummary> {
  mkdirSync(fnDir, { recursive: true });
  writeFileSync(join(fnDir, 'index.js'), SOURCE);
  const sha = await uploadPackage(origin, await packDir(fnDir));
  const settings = { concurrency: BURST.concurrency, maxInstances: BURST.maxInstances };
  // Check the code answers under another name (then delete that function), so that the measured
  // function is created fresh: it has never had an instance. (A redeploy would not do: an idle
  // instance of the previous version may linger until the next invocation.)
  const check = `${BURST.name}-check`;
  await deployFunction(origin, check, sha, {}, settings);
  await warmUp(`${origin}/fn/${check}`, 1);
  await deleteFunction(origin, check);
  await deployFunction(origin, BURST.name, sha, {}, settings);
  const { n: instancesBefore } = await waitForCount(() => instanceCount(origin, BURST.name), 0, 3000);
  await sleep(300); // let the check instance's shutdown and any pool refill finish
  const processesBefore = descendantsOf(platformPid).length;
  const stop = { done: false };
  const polling = poll(origin, stop);
  let report: BurstReport;
  try {
    report = await runGenerator(origin, 90_000);
    await sleep(BURST.pollMs * 2); // one more poll after the last answer
  } finally {
    stop.done = true;
  }
  const { samples, errors: pollErrors } = await polling;
  const removal = await removeBurst(origin, platformPid, processesBefore);
  return { ...summarise(report, samples, pollErrors, instancesBefore), processesBefore, processesAfterRemoval: removal.n, removalMs: removal.ms };
}

function summarise(
  report: BurstReport,
  samples: Array<{ at: number; n: number }>,
  pollErrors: number,
  instancesBefore: number,
): Omit<BurstSummary, 'processesBefore' | 'processesAfterRemoval' | 'removalMs'> {
  const okMs = report.outcomes.filter((o) => o.status >= 200 && o.status < 300).map((o) => o.ms);
  const errorCodes: Record<string, number> = {};
  for (const o of report.outcomes) {
    if (o.status >= 200 && o.status < 300) continue;
    const key = o.error ?? o.code ?? `HTTP ${o.status}`;
    errorCodes[key] = (errorCodes[key] ?? 0) + 1;
  }
  const timeline: BurstSummary['timeline'] = [];
  for (const s of samples) {
    if (timeline.at(-1)?.instances !== s.n) timeline.push({ ms: Math.round(s.at - report.startedAt), instances: s.n });
  }
  const peak = samples.reduce((max, s) => Math.max(max, s.n), 0);
  return {
    requests: report.outcomes.length,
    concurrency: BURST.concurrency,
    maxInstances: BURST.maxInstances,
    handlerMs: BURST.handlerMs,
    instancesBefore,
    completionMs: report.totalMs,
    p50Ms: quantile(okMs, 0.5),
    p99Ms: quantile(okMs, 0.99),
    minMs: okMs.length === 0 ? Number.NaN : Math.min(...okMs),
    maxMs: okMs.length === 0 ? Number.NaN : Math.max(...okMs),
    ok: okMs.length,
    errors: report.outcomes.length - okMs.length,
    errorCodes,
    peakInstances: peak,
    peakAtMs: Math.round((samples.find((s) => s.n === peak)?.at ?? Number.NaN) - report.startedAt),
    instancesAfter: samples.at(-1)?.n ?? Number.NaN,
    polls: samples.length,
    pollsDuringBurst: samples.filter((s) => s.at >= report.startedAt && s.at <= report.endedAt).length,
    pollErrors,
    timeline,
  };
}
