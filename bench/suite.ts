/**
 * Everything measured on Nimbus itself, in order: target (c) under load and the memory after it,
 * node and python scale-from-zero cold starts, the burst, and the async cases. The stages are
 * independent: one that fails (the platform is being changed while the bench runs) is reported
 * with its reason in `stageErrors` and the others still run. The platform is stopped by PID at
 * the end.
 */
import { join } from 'node:path';
import { measureAccept, type AsyncContext } from './async-accept.js';
import { measureDrain } from './async-drain.js';
import { measureStartLatency } from './async-latency.js';
import { descendantsOf, processLabel, rssMb, stopChild } from './child.js';
import { measureBurst } from './burst.js';
import { measureKubernetesColdStarts } from './kubernetes.js';
import { cpuMeter, cpuPerRequest, type ProcessGroup } from './cpu.js';
import { interleave } from './interleave.js';
import { measure, type LoadGenerator } from './load.js';
import {
  HELLO_DIR,
  PYTHON_DIR,
  deployFunction,
  measureColdStarts,
  packDir,
  startNimbus,
  uploadPackage,
  warmUp,
  type Nimbus,
} from './nimbus.js';
import { quantile, summariseColdStarts, tableRow, type BenchResults, type InterleavedRound, type Runtime } from './report.js';
import { ASYNC_STAGES } from './report-async.js';
import { measureTelemetryCost, TELEMETRY_PAIRS, TELEMETRY_SECONDS } from './telemetry-cost.js';
import { formatTriggerNats, TRIGGER_NATS_STAGE } from './report-trigger.js';
import { measureTriggerNats } from './trigger-nats.js';

export const TARGET_C = 'c nimbus hello';
/** The stage comparing records and metrics on and off (bench/telemetry-cost.ts). */
export const TELEMETRY_STAGE = 'records and metrics';

/** What the suite needs from the command line. */
export interface SuiteOptions {
  seconds: number;
  warmupSeconds: number;
  coldRuns: number;
  concurrencies: number[];
  /** Target (b), still running: when given, (b) and (c) are also measured in alternation. */
  proxy?: { url: string; pid: number; backendPid: number };
  /** Rounds of that alternation. */
  rounds: number;
}

/** Target (c) under load, then the RSS of the platform and of everything below it. */
async function loadStage(nimbus: Nimbus, generator: LoadGenerator, options: SuiteOptions, results: BenchResults): Promise<void> {
  const url = `${nimbus.origin}/fn/hello`;
  await warmUp(url, 10);
  for (const concurrency of options.concurrencies) {
    const result = await measure(generator, url, concurrency, options.seconds, options.warmupSeconds);
    const row = { target: TARGET_C, concurrency, result };
    results.rows.push(row);
    console.error(tableRow(row));
  }
  // Memory while the function is warm: the platform and whatever it runs below itself.
  const platformMb = rssMb(nimbus.child.pid);
  const descendants = descendantsOf(nimbus.child.pid).flatMap((pid) => {
    const mb = rssMb(pid);
    return mb === undefined ? [] : [{ pid, label: processLabel(pid), rssMb: mb }];
  });
  results.memory = platformMb === undefined ? { descendants } : { platformMb, descendants };
}

/**
 * Target (b) against (c) at the highest concurrency, `rounds` times over. Measured minutes apart, a
 * shift of the machine's state (another tenant, the CPU clock, the scheduler's placement of the
 * three processes on two cores) moves one target and not the other; with wrk, each round loads
 * both in alternation every 100 ms (bench/interleave.ts), so both see the same machine, and which
 * runs the first slice alternates. With autocannon, a round measures one after the other. The
 * median of the rounds' ratios is the figure to judge.
 */
async function interleavedStage(nimbus: Nimbus, proxy: NonNullable<SuiteOptions['proxy']>, generator: LoadGenerator, options: SuiteOptions, results: BenchResults): Promise<void> {
  const concurrency = Math.max(...options.concurrencies);
  const together = generator.name === 'wrk';
  console.error(`${together ? 'interleaving b and c every 100 ms' : 'alternating b and c'} at c=${concurrency} for ${options.rounds} rounds ...`);
  const proxyGroups: ProcessGroup[] = [
    { label: 'proxy', pid: proxy.pid },
    { label: 'backend', pid: proxy.backendPid },
  ];
  // Below the platform: the instance serving hello, and idle ones (pool spares) at ~0.
  const nimbusGroups: ProcessGroup[] = [
    { label: 'gateway', pid: nimbus.child.pid },
    { label: 'instances', pid: nimbus.child.pid, below: true },
  ];
  const nimbusUrl = `${nimbus.origin}/fn/hello`;
  const oneAfterTheOther = async (url: string, groups: ProcessGroup[]): Promise<RoundSide> => {
    await generator.run(url, concurrency, options.warmupSeconds);
    const { result, cpuUs } = await cpuPerRequest(groups, () => generator.run(url, concurrency, options.seconds));
    return { rps: result.requestsPerSecond, failed: result.non2xx + result.errors, cpuUs };
  };
  if (together) for (const url of [proxy.url, nimbusUrl]) await generator.run(url, concurrency, options.warmupSeconds);
  const rounds: InterleavedRound[] = [];
  for (let i = 0; i < options.rounds; i++) {
    const [theirs, ours] = together
      ? await bothInterleaved([proxy.url, nimbusUrl], [proxyGroups, nimbusGroups], concurrency, options.seconds, i % 2 === 0 ? 0 : 1)
      : [await oneAfterTheOther(proxy.url, proxyGroups), await oneAfterTheOther(nimbusUrl, nimbusGroups)];
    if (theirs.failed + ours.failed > 0) throw new Error(`round ${i + 1} had failed requests (proxy ${theirs.failed}, nimbus ${ours.failed})`);
    rounds.push({
      proxyRps: theirs.rps,
      nimbusRps: ours.rps,
      ratio: theirs.rps > 0 ? ours.rps / theirs.rps : Number.NaN,
      cpuUs: { proxy: theirs.cpuUs['proxy'] ?? Number.NaN, bare: theirs.cpuUs['backend'] ?? Number.NaN, gateway: ours.cpuUs['gateway'] ?? Number.NaN, instance: ours.cpuUs['instances'] ?? Number.NaN },
    });
  }
  results.interleaved = { concurrency, together, rounds, medianRatio: quantile(rounds.map((r) => r.ratio), 0.5) };
}

/** One target's figures in a c/b round: req/s, failed requests, and CPU microseconds per request by process group. */
interface RoundSide {
  rps: number;
  failed: number;
  cpuUs: Record<string, number>;
}

/** One interleaved run of two targets: each one's figures over the time it ran. */
async function bothInterleaved(urls: [string, string], groups: [ProcessGroup[], ProcessGroup[]], concurrency: number, seconds: number, first: 0 | 1): Promise<[RoundSide, RoundSide]> {
  const meters = groups.map((g) => cpuMeter(g));
  const sides = await interleave(urls, concurrency, seconds, first);
  return sides.map((side, i): RoundSide => {
    const cpuUs: Record<string, number> = {};
    for (const [label, used] of Object.entries(meters[i]!())) cpuUs[label] = (used * 1e6) / side.requests;
    return { rps: side.requestsPerSecond, failed: side.failed, cpuUs };
  }) as [RoundSide, RoundSide];
}

/** Cold starts of one runtime's function (deployed as `name` from package `sha`). */
async function coldStage(origin: string, runtime: Runtime, name: string, sha: string, runs: number, results: BenchResults): Promise<void> {
  console.error(`measuring ${runs} cold starts (${runtime}) ...`);
  const summary = summariseColdStarts(await measureColdStarts(origin, name, sha, runs));
  results.coldStarts = { ...results.coldStarts, [runtime]: summary };
}

/** Deploy a folder as function `name` (with `settings`) and check it answers; returns its package sha. */
async function deployDir(origin: string, name: string, dir: string, settings: Record<string, unknown> = {}): Promise<string> {
  const sha = await uploadPackage(origin, await packDir(dir));
  await deployFunction(origin, name, sha, {}, settings);
  await warmUp(`${origin}/fn/${name}`, 3);
  return sha;
}

/** Run one stage; a failure is recorded under `stage` and printed at once, never thrown. */
async function stage(results: BenchResults, name: string, body: () => Promise<void>): Promise<boolean> {
  try {
    await body();
    return true;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    results.stageErrors = { ...results.stageErrors, [name]: reason };
    console.error(`${name}: FAILED: ${reason}`);
    return false;
  }
}

/** All Nimbus stages; never throws. `workDir` holds the platform's data and the burst function. */
export async function benchNimbus(generator: LoadGenerator, options: SuiteOptions, workDir: string, results: BenchResults): Promise<void> {
  let nimbus: Nimbus;
  try {
    nimbus = await startNimbus(join(workDir, 'nimbus-data'));
  } catch (err) {
    results.nimbusError = `failed to start: ${(err as Error).message}`;
    return;
  }
  const { origin } = nimbus;
  try {
    let helloSha: string | undefined;
    await stage(results, 'load', async () => {
      helloSha = await deployDir(origin, 'hello', HELLO_DIR);
      await loadStage(nimbus, generator, options, results);
    });
    const { proxy } = options;
    if (proxy && !results.stageErrors?.['load']) {
      await stage(results, 'interleaved', () => interleavedStage(nimbus, proxy, generator, options, results));
    }
    // Two platforms of their own (records and metrics on, and off), after the first one's load
    // stages and before its cold starts: the load generator and the cores are free.
    await stage(results, TELEMETRY_STAGE, async () => {
      console.error(`records+metrics on and off at c=${Math.max(...options.concurrencies)}: ${TELEMETRY_PAIRS} fresh pairs of platforms, each loaded in alternation every 100 ms ...`);
      results.telemetry = await measureTelemetryCost(generator, workDir, { concurrency: Math.max(...options.concurrencies), seconds: Math.min(TELEMETRY_SECONDS, options.seconds + 1) });
    });
    await stage(results, 'cold start node', async () => {
      const sha = helloSha ?? (await deployDir(origin, 'hello', HELLO_DIR));
      await coldStage(origin, 'node', 'hello', sha, options.coldRuns, results);
    });
    await stage(results, 'cold start python', async () => {
      const sha = await deployDir(origin, 'python', PYTHON_DIR);
      await coldStage(origin, 'python', 'python', sha, options.coldRuns, results);
    });
    await stage(results, 'burst', async () => {
      console.error('measuring a burst of 200 concurrent requests from zero instances ...');
      results.burst = await measureBurst(origin, join(workDir, 'burst-fn'), nimbus.child.pid);
    });
    // Last on this platform: the async cases leave records and write a lot to its files.
    const ctx: AsyncContext = { origin, generator, seconds: options.seconds, warmupSeconds: options.warmupSeconds, workDir, helloSha: helloSha ?? '', platformPid: nimbus.child.pid };
    await asyncStages(ctx, results);
    // After the async accept stage, whose rate it is printed beside.
    await stage(results, TRIGGER_NATS_STAGE, async () => {
      console.error('measuring NATS JetStream -> trigger -> function (rate, publish -> handler start) ...');
      results.triggerNats = await measureTriggerNats({ origin, workDir });
      if ('skipped' in results.triggerNats) console.error(formatTriggerNats(results.triggerNats, undefined, undefined).join('\n').trim());
    });
    if (results.stageErrors?.['load']) results.nimbusError = `load failed: ${results.stageErrors['load']}`;
    results.sandbox = nimbus.sandbox;
  } finally {
    // A longer grace than the default: Nimbus drains and stops its instances on SIGTERM.
    await stopChild(nimbus.child, 5000);
  }
  await stage(results, 'cold start kubernetes', async () => {
    console.error(`measuring ${options.coldRuns} cold starts (node, kubernetes backend on the test API server) ...`);
    results.kubernetes = { coldStartNode: await measureKubernetesColdStarts(workDir, options.coldRuns) };
  });
  if (results.sandbox === 'process') return; // nothing to compare with
  await stage(results, 'sandbox off', () => benchWithoutSandbox(generator, options, workDir, results));
}

/** The async cases (issue #12), each a stage of its own: accept rate, 202 -> handler start, drain. */
async function asyncStages(ctx: AsyncContext, results: BenchResults): Promise<void> {
  const withHello = async (): Promise<AsyncContext> => (ctx.helloSha === '' ? { ...ctx, helloSha: await deployDir(ctx.origin, 'hello', HELLO_DIR) } : ctx);
  await stage(results, ASYNC_STAGES.accept, async () => {
    console.error('measuring the async accept rate ...');
    results.async = { ...results.async, accept: await measureAccept(await withHello()) };
  });
  await stage(results, ASYNC_STAGES.startLatency, async () => {
    console.error('measuring 202 -> handler start ...');
    results.async = { ...results.async, startLatency: await measureStartLatency(ctx) };
  });
  await stage(results, ASYNC_STAGES.drain, async () => {
    console.error('measuring the drain of 10,000 queued invocations ...');
    results.async = { ...results.async, drain: await measureDrain(await withHello()) };
  });
}

/** Warm throughput at the highest concurrency and node cold starts with `--sandbox process`. */
async function benchWithoutSandbox(generator: LoadGenerator, options: SuiteOptions, workDir: string, results: BenchResults): Promise<void> {
  const nimbus = await startNimbus(join(workDir, 'nimbus-data-process'), ['--sandbox', 'process']);
  try {
    const { origin } = nimbus;
    // The process sandbox can only give the host's network (outbound needs a network namespace).
    const host = { network: 'host' };
    const sha = await deployDir(origin, 'hello', HELLO_DIR, host);
    const concurrency = Math.max(...options.concurrencies);
    const result = await measure(generator, `${origin}/fn/hello`, concurrency, options.seconds, options.warmupSeconds);
    const warm = { target: `${TARGET_C} (--sandbox process)`, concurrency, result };
    console.error(tableRow(warm));
    console.error(`measuring ${options.coldRuns} cold starts (node, --sandbox process) ...`);
    const coldStartNode = summariseColdStarts(await measureColdStarts(origin, 'hello', sha, options.coldRuns, undefined, host));
    results.sandboxOff = { sandbox: nimbus.sandbox, warm, coldStartNode };
  } finally {
    await stopChild(nimbus.child, 5000);
  }
}
