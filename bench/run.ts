/**
 * `npm run bench`: measures, side by side in one run and with one load generator,
 *   (a) a bare node:http server answering "hello",
 *   (b) a minimal one-hop reverse proxy in front of it (the floor of any process-isolated design),
 *   (c) examples/hello invoked through Nimbus,
 * at concurrency 1 and 50, then Nimbus's scale-from-zero cold start. Prints a table and writes
 * bench/results/latest.json. Options: `--quick` (2 s per case), `--cold-runs N` (default 20),
 * `--autocannon` (use autocannon even when wrk is installed).
 *
 * Every process it starts is stopped by PID in `finally` (and on SIGINT/SIGTERM), so the run
 * always ends by itself and leaves nothing behind.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendantsOf, processLabel, rssMb, stopAllChildren, stopChild } from './child.js';
import { chooseGenerator, measure, stopGenerators, type LoadGenerator } from './load.js';
import {
  HELLO_DIR,
  deployFunction,
  measureColdStarts,
  packDir,
  startNimbus,
  uploadPackage,
  warmUp,
  type Nimbus,
} from './nimbus.js';
import { formatReport, quantile, ratio, summariseColdStarts, tableHeader, tableRow, type BenchResults, type Row } from './report.js';
import { measureSpawnFloor, startBare, startProxy } from './targets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_FILE = join(ROOT, 'bench', 'results', 'latest.json');
const CONCURRENCIES = [1, 50];
const TARGET_A = 'a bare node';
const TARGET_B = 'b minimal proxy';
const TARGET_C = 'c nimbus hello';

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

/** Target (c) and the cold starts. Never throws: a failure is returned as the reason to print. */
async function benchNimbus(generator: LoadGenerator, options: Options, dataDir: string, results: BenchResults): Promise<string | undefined> {
  let nimbus: Nimbus;
  try {
    nimbus = await startNimbus(dataDir);
  } catch (err) {
    return `failed to start: ${(err as Error).message}`;
  }
  let stage = 'deploy';
  try {
    const sha = await uploadPackage(nimbus.origin, await packDir(HELLO_DIR));
    await deployFunction(nimbus.origin, 'hello', sha);
    const url = `${nimbus.origin}/fn/hello`;
    stage = 'warm-up';
    await warmUp(url, 10);
    stage = 'load';
    await measureTarget(generator, TARGET_C, url, options, results.rows);
    // Memory while the function is warm: the platform and whatever it runs below itself.
    const platformMb = rssMb(nimbus.child.pid);
    const descendants = descendantsOf(nimbus.child.pid).flatMap((pid) => {
      const mb = rssMb(pid);
      return mb === undefined ? [] : [{ pid, label: processLabel(pid), rssMb: mb }];
    });
    results.memory = platformMb === undefined ? { descendants } : { platformMb, descendants };
    stage = 'cold start';
    console.error(`measuring ${options.coldRuns} cold starts ...`);
    results.coldStart = summariseColdStarts(await measureColdStarts(nimbus.origin, 'hello', sha, options.coldRuns));
    return undefined;
  } catch (err) {
    return `${stage} failed: ${(err as Error).message}`;
  } finally {
    // A longer grace than the default: Nimbus drains and stops its instances on SIGTERM.
    await stopChild(nimbus.child, 5000);
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
    // Idle servers cost little, but stop them anyway so Nimbus has the machine to itself.
    await stopAll();
    console.error(`measuring ${options.coldRuns} spawns of a bare server (cold-start reference) ...`);
    const spawns = await measureSpawnFloor(work, options.coldRuns);
    results.spawnFloor = {
      runs: spawns.length,
      medianMs: quantile(spawns, 0.5),
      p90Ms: quantile(spawns, 0.9),
      minMs: Math.min(...spawns),
      samplesMs: spawns,
    };
    const nimbusError = await benchNimbus(generator, options, join(work, 'nimbus-data'), results);
    if (nimbusError !== undefined) results.nimbusError = nimbusError;
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
