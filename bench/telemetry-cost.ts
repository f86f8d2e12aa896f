/**
 * What invocation records, the ledger, the per-minute stats and the Prometheus metrics cost on the
 * warm hello path (issue 14): two platforms side by side, one as shipped and one started with
 * `--no-records --no-metrics`, both serving examples/hello, measured in alternation at one
 * concurrency (which goes first alternates too, so neither always runs on a machine the other
 * just warmed). The median of the rounds' ratios (on / off req/s) is the figure; target >= 0.95.
 *
 * Many short rounds rather than a few long ones: on a shared VM the speed drifts over seconds
 * (a bare node server ranged from 45k to 88k req/s within minutes), so the two sides of a round
 * are measured close together, and a median of many ratios moves less with one bad round.
 * `--same` starts both platforms as "off": the spread of that run is the machine's own noise.
 *
 * A stage of `npm run bench`, and runnable alone:
 * `npm run build && node dist/bench/telemetry-cost.js [--seconds 2] [--rounds 12] [--concurrency 50] [--pairs 4] [--sandbox-process] [--same]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopAllChildren, stopChild } from './child.js';
import { cpuMeter } from './cpu.js';
import { chooseGenerator, stopGenerators, type LoadGenerator, type LoadResult } from './load.js';
import { HELLO_DIR, deployFunction, packDir, startNimbus, uploadPackage, warmUp, type Nimbus } from './nimbus.js';

/** The ratio records and metrics must keep: on / off warm throughput. */
export const TELEMETRY_RATIO_TARGET = 0.95;
/** Rounds and seconds per side of a round when the stage runs in `npm run bench`. */
export const TELEMETRY_ROUNDS = 12;
export const TELEMETRY_SECONDS = 2;
/** Fresh pairs of platforms the rounds are shared out over. */
export const TELEMETRY_PAIRS = 4;

/** One round: both platforms measured right after each other. */
export interface TelemetryRound {
  /** Which pair of platforms (from 1). */
  pair: number;
  onRps: number;
  offRps: number;
  /** onRps / offRps */
  ratio: number;
}

/** The stage's result. */
export interface TelemetryCost {
  concurrency: number;
  seconds: number;
  /** Pairs of platforms the rounds were shared out over. */
  pairs: number;
  rounds: TelemetryRound[];
  medianRatio: number;
  /**
   * CPU per request of each side over all its pairs' lifetimes in the stage (the platform with its
   * threads, and its instances), warm-ups and a settle after the last round included, so work the
   * history thread does after a round counts too. Moves much less with the machine's speed than
   * throughput does: a second view of the same cost.
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
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  /** Both platforms with `--sandbox process` (hosts where the bubblewrap sandbox cannot run). */
  processSandbox?: boolean;
  /** Both platforms with records and metrics off: measures the machine's noise, not a cost. */
  same?: boolean;
  /** Fresh pairs of platforms to share the rounds out over. @default TELEMETRY_PAIRS */
  pairs?: number;
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
 * Measures the rounds over {@link TelemetryCostOptions.pairs} pairs of platforms, each pair
 * started fresh in `workDir` (which starts first alternates too) and stopped after its share of
 * the rounds. Fresh pairs because a platform process keeps a speed of its own for its lifetime
 * (two identical platforms measured side by side here differed by up to 10% over a dozen rounds,
 * by a few percent either way from one pair to the next): one pair would measure that, not the cost.
 */
export async function measureTelemetryCost(generator: LoadGenerator, workDir: string, options: TelemetryCostOptions): Promise<TelemetryCost> {
  const pairs = Math.max(1, Math.min(options.pairs ?? TELEMETRY_PAIRS, options.rounds));
  const rounds: TelemetryRound[] = [];
  const tally: CpuTally = { on: { seconds: 0, requests: 0 }, off: { seconds: 0, requests: 0 } };
  for (let pair = 0; pair < pairs; pair++) {
    // The rounds shared out as evenly as they go: 12 over 4 pairs is 3 each.
    const share = Math.floor((options.rounds * (pair + 1)) / pairs) - Math.floor((options.rounds * pair) / pairs);
    await measurePair(generator, join(workDir, `nimbus-telemetry-${pair}`), options, pair, share, rounds, tally);
  }
  const sorted = rounds.map((r) => r.ratio).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const medianRatio = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const onUs = (tally.on.seconds * 1e6) / tally.on.requests;
  const offUs = (tally.off.seconds * 1e6) / tally.off.requests;
  return { concurrency: options.concurrency, seconds: options.seconds, pairs, rounds, medianRatio, cpu: { onUs, offUs, ratio: offUs / onUs } };
}

/** Starts one pair, adds `count` alternated rounds of it to `rounds` and its CPU to `tally`, stops it. */
async function measurePair(
  generator: LoadGenerator,
  dir: string,
  options: TelemetryCostOptions,
  pair: number,
  count: number,
  rounds: TelemetryRound[],
  tally: CpuTally,
): Promise<void> {
  const processSandbox = options.processSandbox ?? false;
  const offArgs = ['--no-records', '--no-metrics'];
  const start = (side: 'on' | 'off') => startWithHello(join(dir, side), side === 'on' && !options.same ? [] : offArgs, processSandbox);
  const started: Nimbus[] = [];
  try {
    const first = pair % 2 === 0 ? 'on' : 'off';
    started.push(await start(first));
    started.push(await start(first === 'on' ? 'off' : 'on'));
    const [on, off] = first === 'on' ? [started[0]!, started[1]!] : [started[1]!, started[0]!];
    const meter = (nimbus: Nimbus) => cpuMeter([{ label: 'platform', pid: nimbus.child.pid }, { label: 'instances', pid: nimbus.child.pid, below: true }]);
    const used = { on: meter(on), off: meter(off) };
    const served = { on: 0, off: 0 };
    const run = async (nimbus: Nimbus): Promise<LoadResult> => {
      const url = `${nimbus.origin}/fn/hello`;
      const side = nimbus === on ? 'on' : 'off';
      served[side] += (await generator.run(url, options.concurrency, options.warmupSeconds)).requests;
      const result = await generator.run(url, options.concurrency, options.seconds);
      served[side] += result.requests;
      if (result.non2xx + result.errors > 0) throw new Error(`failed requests: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return result;
    };
    for (let i = 0; i < count; i++) {
      let onResult: LoadResult;
      let offResult: LoadResult;
      if (rounds.length % 2 === 0) {
        onResult = await run(on);
        offResult = await run(off);
      } else {
        offResult = await run(off);
        onResult = await run(on);
      }
      const round = { pair: pair + 1, onRps: onResult.requestsPerSecond, offRps: offResult.requestsPerSecond, ratio: onResult.requestsPerSecond / offResult.requestsPerSecond };
      rounds.push(round);
      console.error(`  pair ${round.pair}, round ${rounds.length}: records+metrics on ${round.onRps.toFixed(0)} req/s, off ${round.offRps.toFixed(0)} req/s, ratio ${round.ratio.toFixed(3)}`);
    }
    await sleep(SETTLE_MS);
    for (const side of ['on', 'off'] as const) {
      const seconds = Object.values(used[side]()).reduce((sum, s) => sum + s, 0);
      tally[side].seconds += seconds;
      tally[side].requests += served[side];
    }
  } finally {
    for (const nimbus of started) await stopChild(nimbus.child, 5000);
  }
}

/** The report's lines for the stage. */
export function formatTelemetryCost(cost: TelemetryCost | undefined, failed: string | undefined): string[] {
  if (failed) return [`records and metrics on/off: FAILED: ${failed}`];
  if (!cost) return [];
  const pairs = Array.from({ length: cost.pairs }, (_, index) =>
    `pair ${index + 1}: ${cost.rounds.filter((r) => r.pair === index + 1).map((r) => `${r.onRps.toFixed(0)} / ${r.offRps.toFixed(0)} = ${r.ratio.toFixed(3)}`).join(', ')}`,
  );
  return [
    `records and metrics on / off at c=${cost.concurrency}, ${cost.rounds.length} alternated rounds of ${cost.seconds} s over ${cost.pairs} fresh pairs of platforms (on req/s / off req/s = ratio):`,
    ...pairs.map((line) => `  ${line}`),
    `  median on/off ${cost.medianRatio.toFixed(3)} (target >= ${TELEMETRY_RATIO_TARGET})`,
    `  CPU per request over the pairs (platform with its threads + instance; warm-ups and a ${SETTLE_MS / 1000} s settle included): ` +
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
  const options = {
    concurrency: numberFlag(argv, '--concurrency', 50),
    seconds: numberFlag(argv, '--seconds', TELEMETRY_SECONDS),
    warmupSeconds: 1,
    rounds: numberFlag(argv, '--rounds', TELEMETRY_ROUNDS),
    processSandbox: argv.includes('--sandbox-process'),
    same: argv.includes('--same'),
    pairs: numberFlag(argv, '--pairs', TELEMETRY_PAIRS),
  };
  const generator = await chooseGenerator(argv.includes('--autocannon'));
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
