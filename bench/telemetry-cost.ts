/**
 * What invocation records, the ledger, the per-minute stats and the Prometheus metrics cost on the
 * warm hello path (issue 14): pairs of platforms, one as shipped and one started with
 * `--no-records --no-metrics`, both serving examples/hello, loaded at one concurrency in
 * alternation every 100 ms (bench/interleave.ts), so that both sides of a pair see the same
 * machine. Each pair's figure is on / off req/s over the time each side ran; the median over the
 * pairs is judged; target >= 0.95.
 *
 * Why so: on a shared VM the speed swings within seconds. Rounds of 2 s, one side after the other,
 * gave single ratios from 0.56 to 1.51, and a median of 0.843 over 12 rounds for two identical
 * platforms (`--same`). And a platform process keeps a speed of its own for its life (two
 * identical ones differed by up to 10% in CPU per request), hence several fresh pairs, which side
 * starts first and which runs the first slice alternating from pair to pair.
 * `--same` starts both platforms as "off": the spread of that run is the machine's own noise.
 *
 * A stage of `npm run bench`, and runnable alone (needs wrk):
 * `npm run build && node dist/bench/telemetry-cost.js [--seconds 6] [--pairs 8] [--concurrency 50] [--pair-warmup 5] [--sandbox-process] [--same]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopAllChildren, stopChild } from './child.js';
import { cpuMeter } from './cpu.js';
import { interleave, SLICE_MS } from './interleave.js';
import { chooseGenerator, stopGenerators, type LoadGenerator } from './load.js';
import { HELLO_DIR, deployFunction, packDir, startNimbus, uploadPackage, warmUp, type Nimbus } from './nimbus.js';

/** The ratio records and metrics must keep: on / off warm throughput. */
export const TELEMETRY_RATIO_TARGET = 0.95;
/** Seconds each side of a pair runs (in 100 ms slices) when the stage runs in `npm run bench`. */
export const TELEMETRY_SECONDS = 6;
/** Fresh pairs of platforms measured. */
export const TELEMETRY_PAIRS = 8;
/**
 * Load each platform of a new pair takes before it is measured: V8 keeps compiling the serving
 * path's hot code for the first few seconds under load (on two vCPUs its compiler threads used
 * 0.2-0.6 s of CPU per second of load for the first 3-4 s, under 0.06 s after), and a pair measured
 * then measures that warm-up, not the warm path. In a full bench run of alternated rounds, the first
 * round of each of 4 pairs was its pair's lowest ratio (0.66-0.94 against a median of 1.01 for the others).
 */
export const PAIR_WARMUP_SECONDS = 5;

/** One pair's measurement. */
export interface TelemetryPair {
  /** Which pair (from 1). */
  pair: number;
  onRps: number;
  offRps: number;
  /** onRps / offRps */
  ratio: number;
}

/** The stage's result. */
export interface TelemetryCost {
  concurrency: number;
  /** Seconds each side of a pair ran. */
  seconds: number;
  /** How long one side ran before the other took over. */
  sliceMs: number;
  /** Seconds of load each platform took before its pair was measured. */
  pairWarmupSeconds: number;
  pairs: TelemetryPair[];
  medianRatio: number;
  /**
   * CPU per request of each side over its measured runs and a settle after each (the platform with
   * its threads, and its instances), so the history thread's work after a run counts too. Moves
   * less with the machine's speed than throughput does: a second view of the same cost.
   */
  cpu: TelemetryCpu;
}

/** CPU microseconds per request with records and metrics on and off, and off / on. */
export interface TelemetryCpu {
  onUs: number;
  offUs: number;
  ratio: number;
}

/** Each side's CPU seconds and requests served, summed over the pairs. */
interface CpuTally {
  on: { seconds: number; requests: number };
  off: { seconds: number; requests: number };
}

/** Longer than the history writer's flush interval (150 ms): its last batch is written within. */
const SETTLE_MS = 1000;

/** How to measure. */
export interface TelemetryCostOptions {
  concurrency: number;
  /** Seconds each side of a pair runs. */
  seconds: number;
  /** Fresh pairs of platforms to measure. @default TELEMETRY_PAIRS */
  pairs?: number;
  /** Seconds of load each platform of a new pair takes first. @default PAIR_WARMUP_SECONDS */
  pairWarmupSeconds?: number;
  /** Both platforms with `--sandbox process` (hosts where the bubblewrap sandbox cannot run). */
  processSandbox?: boolean;
  /** Both platforms with records and metrics off: measures the machine's noise, not a cost. */
  same?: boolean;
}

async function startWithHello(dataDir: string, extraArgs: string[], processSandbox: boolean): Promise<Nimbus> {
  const nimbus = await startNimbus(dataDir, [...extraArgs, ...(processSandbox ? ['--sandbox', 'process'] : [])]);
  try {
    const sha = await uploadPackage(nimbus.origin, await packDir(HELLO_DIR));
    // The process sandbox can only give the host's network (outbound needs a network namespace).
    await deployFunction(nimbus.origin, 'hello', sha, {}, processSandbox ? { network: 'host' } : {});
    await warmUp(`${nimbus.origin}/fn/hello`, 10);
    return nimbus;
  } catch (err) {
    await stopChild(nimbus.child, 5000);
    throw err;
  }
}

/**
 * Measures {@link TelemetryCostOptions.pairs} pairs of platforms, each started fresh in `workDir`,
 * warmed, measured once in 100 ms alternation and stopped. `generator` warms them; the measured
 * runs need wrk.
 */
export async function measureTelemetryCost(generator: LoadGenerator, workDir: string, options: TelemetryCostOptions): Promise<TelemetryCost> {
  if (generator.name !== 'wrk') throw new Error('this stage needs wrk (apt-get install wrk): it pauses and resumes the load generator every 100 ms');
  const pairCount = Math.max(1, options.pairs ?? TELEMETRY_PAIRS);
  const pairWarmupSeconds = options.pairWarmupSeconds ?? PAIR_WARMUP_SECONDS;
  const pairs: TelemetryPair[] = [];
  const tally: CpuTally = { on: { seconds: 0, requests: 0 }, off: { seconds: 0, requests: 0 } };
  for (let pair = 0; pair < pairCount; pair++) {
    pairs.push(await measurePair(generator, join(workDir, `nimbus-telemetry-${pair}`), options, pairWarmupSeconds, pair, tally));
  }
  const sorted = pairs.map((p) => p.ratio).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const medianRatio = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const onUs = (tally.on.seconds * 1e6) / tally.on.requests;
  const offUs = (tally.off.seconds * 1e6) / tally.off.requests;
  return { concurrency: options.concurrency, seconds: options.seconds, sliceMs: SLICE_MS, pairWarmupSeconds, pairs, medianRatio, cpu: { onUs, offUs, ratio: offUs / onUs } };
}

/** Starts one pair, warms it, measures it once, adds its CPU to `tally`, and stops it. */
async function measurePair(generator: LoadGenerator, dir: string, options: TelemetryCostOptions, warmupSeconds: number, pair: number, tally: CpuTally): Promise<TelemetryPair> {
  const processSandbox = options.processSandbox ?? false;
  const offArgs = ['--no-records', '--no-metrics'];
  const start = (side: 'on' | 'off') => startWithHello(join(dir, side), side === 'on' && !options.same ? [] : offArgs, processSandbox);
  const started: Nimbus[] = [];
  try {
    const first = pair % 2 === 0 ? 'on' : 'off';
    started.push(await start(first));
    started.push(await start(first === 'on' ? 'off' : 'on'));
    const [on, off] = first === 'on' ? [started[0]!, started[1]!] : [started[1]!, started[0]!];
    for (const nimbus of started) await generator.run(`${nimbus.origin}/fn/hello`, options.concurrency, warmupSeconds);
    const meter = (nimbus: Nimbus) => cpuMeter([{ label: 'platform', pid: nimbus.child.pid }, { label: 'instances', pid: nimbus.child.pid, below: true }]);
    const used = { on: meter(on), off: meter(off) };
    // Which side runs the first slice alternates too (pairs 1, 2: on, off first; 3, 4: off, on...).
    const [onSide, offSide] = await interleave([`${on.origin}/fn/hello`, `${off.origin}/fn/hello`], options.concurrency, options.seconds, Math.floor(pair / 2) % 2 === 0 ? 0 : 1);
    if (onSide.failed + offSide.failed > 0) throw new Error(`failed requests: ${onSide.failed} with records and metrics on, ${offSide.failed} off`);
    await sleep(SETTLE_MS);
    const measured = { on: onSide, off: offSide };
    for (const side of ['on', 'off'] as const) {
      tally[side].seconds += Object.values(used[side]()).reduce((sum, s) => sum + s, 0);
      tally[side].requests += measured[side].requests;
    }
    const result = { pair: pair + 1, onRps: onSide.requestsPerSecond, offRps: offSide.requestsPerSecond, ratio: onSide.requestsPerSecond / offSide.requestsPerSecond };
    console.error(`  pair ${result.pair}: records+metrics on ${result.onRps.toFixed(0)} req/s, off ${result.offRps.toFixed(0)} req/s, ratio ${result.ratio.toFixed(3)}`);
    return result;
  } finally {
    for (const nimbus of started) await stopChild(nimbus.child, 5000);
  }
}

/** The report's lines for the stage. */
export function formatTelemetryCost(cost: TelemetryCost | undefined, failed: string | undefined): string[] {
  if (failed) return [`records and metrics on/off: FAILED: ${failed}`];
  if (!cost) return [];
  return [
    `records and metrics on / off at c=${cost.concurrency}, ${cost.pairs.length} fresh pairs of platforms, each platform warmed ${cost.pairWarmupSeconds} s, ` +
      `then both loaded in alternation every ${cost.sliceMs} ms for ${cost.seconds} s each (on req/s / off req/s = ratio):`,
    `  ${cost.pairs.map((p) => `${p.onRps.toFixed(0)} / ${p.offRps.toFixed(0)} = ${p.ratio.toFixed(3)}`).join(';  ')}`,
    `  median on/off ${cost.medianRatio.toFixed(3)} (target >= ${TELEMETRY_RATIO_TARGET})`,
    `  CPU per request over the measured runs (platform with its threads + instance; a ${SETTLE_MS / 1000} s settle after each included): ` +
      `on ${cost.cpu.onUs.toFixed(1)} us, off ${cost.cpu.offUs.toFixed(1)} us, off/on ${cost.cpu.ratio.toFixed(3)}`,
  ];
}

function numberFlag(argv: string[], name: string, fallback: number): number {
  const at = argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
  return value;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options: TelemetryCostOptions = {
    concurrency: numberFlag(argv, '--concurrency', 50),
    seconds: numberFlag(argv, '--seconds', TELEMETRY_SECONDS),
    pairs: numberFlag(argv, '--pairs', TELEMETRY_PAIRS),
    pairWarmupSeconds: numberFlag(argv, '--pair-warmup', PAIR_WARMUP_SECONDS),
    processSandbox: argv.includes('--sandbox-process'),
    same: argv.includes('--same'),
  };
  const generator = await chooseGenerator();
  const work = mkdtempSync(join(tmpdir(), 'nimbus-bench-telemetry-'));
  try {
    console.error(`load generator: ${generator.name}`);
    const cost = await measureTelemetryCost(generator, work, options);
    console.log(formatTelemetryCost(cost, undefined).join('\n'));
  } finally {
    stopGenerators();
    await stopAllChildren();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(async (err: unknown) => {
    stopGenerators();
    await stopAllChildren();
    console.error(`telemetry bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
