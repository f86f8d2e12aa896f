/**
 * `npm run bench`: measures, side by side in one run and with one load generator,
 *   (a) a bare node:http server answering "hello",
 *   (b) a minimal one-hop reverse proxy in front of it (the floor of any process-isolated design),
 *   (c) examples/hello invoked through Nimbus,
 * at concurrency 1 and 50, then Nimbus's scale-from-zero cold starts (node and python), a
 * burst of 200 concurrent requests at a function scaled to zero (bench/suite.ts, bench/burst.ts)
 * and async invocations: the accept rate beside the sync rate of the same function and a SQLite
 * floor, 202 -> handler start, and the drain of 10,000 queued (bench/async-*.ts).
 * At c=50, (b) and (c) are also measured in alternation for a few rounds: the median of those
 * ratios is the figure to judge against the target, as it is robust to the machine drifting.
 * Prints a table and writes bench/results/latest.json. Options: `--quick` (2 s per case), `--cold-runs N` (default 20),
 * `--autocannon` (use autocannon even when wrk is installed).
 *
 * Every process it starts is stopped by PID in `finally` (and on SIGINT/SIGTERM), so the run
 * always ends by itself and leaves nothing behind.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rssMb, stopAllChildren } from './child.js';
import { chooseGenerator, measure, stopGenerators, type LoadGenerator } from './load.js';
import { formatReport, quantile, ratio, tableHeader, tableRow, type BenchResults, type Row } from './report.js';
import { TARGET_C, benchNimbus } from './suite.js';
import { measureSpawnFloor, startBare, startProxy } from './targets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_FILE = join(ROOT, 'bench', 'results', 'latest.json');
const CONCURRENCIES = [1, 50];
const TARGET_A = 'a bare node';
const TARGET_B = 'b minimal proxy';
/** Rounds of the alternating (b), (c) comparison at the highest concurrency. */
const INTERLEAVED_ROUNDS = 5;

/** Command-line options. */
interface Options {
  seconds: number;
  warmupSeconds: number;
  coldRuns: number;
  forceAutocannon: boolean;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const coldIndex = argv.indexOf('--cold-runs');
  const coldRuns = coldIndex >= 0 ? Number(argv[coldIndex + 1]) : 20;
  if (!Number.isInteger(coldRuns) || coldRuns < 1) throw new Error('--cold-runs needs a positive integer');
  return { seconds: quick ? 2 : 5, warmupSeconds: 1, coldRuns, forceAutocannon: argv.includes('--autocannon') };
}

/** The run's temporary folder (sockets, Nimbus data), removed at the end whatever happens. */
let workDir: string | undefined;

async function stopAll(): Promise<void> {
  stopGenerators();
  await stopAllChildren();
}

function removeWorkDir(): void {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}

/** Measure one target at every concurrency, printing each row as soon as it is known. */
async function measureTarget(generator: LoadGenerator, target: string, url: string, options: Options, rows: Row[]): Promise<void> {
  for (const concurrency of CONCURRENCIES) {
    const result = await measure(generator, url, concurrency, options.seconds, options.warmupSeconds);
    const row = { target, concurrency, result };
    rows.push(row);
    console.error(tableRow(row));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const generator = await chooseGenerator(options.forceAutocannon);
  const cpu = cpus();
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model.trim() ?? 'unknown', node: process.version, platform: process.platform },
    generator: generator.name,
    secondsPerCase: options.seconds,
    warmupSeconds: options.warmupSeconds,
    rows: [],
    ratios: {},
  };
  console.error(`load generator: ${generator.name}${generator.name === 'wrk' ? '' : ' (install wrk for lower generator overhead)'}`);
  console.error(tableHeader());
  const work = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
  workDir = work;
  try {
    const socketPath = join(work, 'bare.sock');
    const bare = await startBare(socketPath);
    const proxy = await startProxy(socketPath);
    await measureTarget(generator, TARGET_A, bare.url, options, results.rows);
    const bareMb = rssMb(bare.child.pid);
    if (bareMb !== undefined) results.bareServerMb = bareMb;
    await measureTarget(generator, TARGET_B, proxy.url, options, results.rows);
    // Both stay up (idle, they cost nothing measurable) for the alternating comparison with Nimbus.
    console.error(`measuring ${options.coldRuns} spawns of a bare server (cold-start reference) ...`);
    const spawns = await measureSpawnFloor(work, options.coldRuns);
    results.spawnFloor = {
      runs: spawns.length,
      medianMs: quantile(spawns, 0.5),
      p90Ms: quantile(spawns, 0.9),
      minMs: Math.min(...spawns),
      samplesMs: spawns,
    };
    await benchNimbus(generator, { ...options, concurrencies: CONCURRENCIES, proxy: { url: proxy.url, pid: proxy.child.pid, backendPid: bare.child.pid }, rounds: INTERLEAVED_ROUNDS }, work, results);
  } finally {
    await stopAll();
    removeWorkDir();
  }
  for (const c of CONCURRENCIES) {
    const pairs: Array<[string, string, string]> = [['c/a', TARGET_C, TARGET_A], ['c/b', TARGET_C, TARGET_B], ['b/a', TARGET_B, TARGET_A]];
    for (const [key, num, den] of pairs) {
      const value = ratio(results.rows, num, den, c);
      if (value !== undefined) results.ratios[`${key}@${c}`] = value;
    }
  }
  console.log('');
  console.log(formatReport(results));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults written to ${RESULTS_FILE}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => {
      removeWorkDir();
      process.exit(130);
    });
  });
}

main().catch(async (err: unknown) => {
  await stopAll();
  removeWorkDir();
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
