/**
 * What invocation records, the ledger, the per-minute stats and the Prometheus metrics cost on the
 * warm hello path (issue 14): two platforms side by side, one as shipped and one started with
 * `--no-records --no-metrics`, both serving examples/hello, measured in alternation at one
 * concurrency (which goes first alternates too, so neither always runs on a machine the other
 * just warmed). The median of the rounds' ratios (on / off req/s) is the figure; target >= 0.95.
 *
 * A stage of `npm run bench`, and runnable alone:
 * `npm run build && node dist/bench/telemetry-cost.js [--seconds 5] [--rounds 5] [--concurrency 50] [--sandbox-process]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stopAllChildren, stopChild } from './child.js';
import { chooseGenerator, stopGenerators, type LoadGenerator, type LoadResult } from './load.js';
import { HELLO_DIR, deployFunction, packDir, startNimbus, uploadPackage, warmUp, type Nimbus } from './nimbus.js';

/** The ratio records and metrics must keep: on / off warm throughput. */
export const TELEMETRY_RATIO_TARGET = 0.95;

/** One round: both platforms measured right after each other. */
export interface TelemetryRound {
  onRps: number;
  offRps: number;
  /** onRps / offRps */
  ratio: number;
}

/** The stage's result. */
export interface TelemetryCost {
  concurrency: number;
  seconds: number;
  rounds: TelemetryRound[];
  medianRatio: number;
}

/** How to measure. */
export interface TelemetryCostOptions {
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  rounds: number;
  /** Both platforms with `--sandbox process` (hosts where the bubblewrap sandbox cannot run). */
  processSandbox?: boolean;
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

/** Starts both platforms in `workDir`, measures them in alternation, stops them. */
export async function measureTelemetryCost(generator: LoadGenerator, workDir: string, options: TelemetryCostOptions): Promise<TelemetryCost> {
  const processSandbox = options.processSandbox ?? false;
  const on = await startWithHello(join(workDir, 'nimbus-telemetry-on'), [], processSandbox);
  let off: Nimbus | undefined;
  try {
    off = await startWithHello(join(workDir, 'nimbus-telemetry-off'), ['--no-records', '--no-metrics'], processSandbox);
    const run = async (nimbus: Nimbus): Promise<LoadResult> => {
      const url = `${nimbus.origin}/fn/hello`;
      await generator.run(url, options.concurrency, options.warmupSeconds);
      const result = await generator.run(url, options.concurrency, options.seconds);
      if (result.non2xx + result.errors > 0) throw new Error(`failed requests: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return result;
    };
    const rounds: TelemetryRound[] = [];
    for (let i = 0; i < options.rounds; i++) {
      let onResult: LoadResult;
      let offResult: LoadResult;
      if (i % 2 === 0) {
        onResult = await run(on);
        offResult = await run(off);
      } else {
        offResult = await run(off);
        onResult = await run(on);
      }
      const round = { onRps: onResult.requestsPerSecond, offRps: offResult.requestsPerSecond, ratio: onResult.requestsPerSecond / offResult.requestsPerSecond };
      rounds.push(round);
      console.error(`  round ${i + 1}: records+metrics on ${round.onRps.toFixed(0)} req/s, off ${round.offRps.toFixed(0)} req/s, ratio ${round.ratio.toFixed(3)}`);
    }
    const sorted = rounds.map((r) => r.ratio).sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const medianRatio = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    return { concurrency: options.concurrency, seconds: options.seconds, rounds, medianRatio };
  } finally {
    await stopChild(on.child, 5000);
    if (off) await stopChild(off.child, 5000);
  }
}

/** The report's lines for the stage. */
export function formatTelemetryCost(cost: TelemetryCost | undefined, failed: string | undefined): string[] {
  if (failed) return [`records and metrics on/off: FAILED: ${failed}`];
  if (!cost) return [];
  const rounds = cost.rounds.map((r) => `${r.onRps.toFixed(0)} / ${r.offRps.toFixed(0)} = ${r.ratio.toFixed(3)}`);
  return [
    `records and metrics on / off at c=${cost.concurrency}, alternated for ${cost.rounds.length} rounds of ${cost.seconds} s (on req/s / off req/s = ratio): ${rounds.join(';  ')}`,
    `  median on/off ${cost.medianRatio.toFixed(3)} (target >= ${TELEMETRY_RATIO_TARGET})`,
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
    seconds: numberFlag(argv, '--seconds', 5),
    warmupSeconds: 1,
    rounds: numberFlag(argv, '--rounds', 5),
    processSandbox: argv.includes('--sandbox-process'),
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
