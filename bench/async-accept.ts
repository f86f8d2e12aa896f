/**
 * The async accept rate (202/s at c=50), side by side with the sync rate of the same function
 * and with the SQLite floor of the same writes (bench/async-floor.ts).
 *
 * Accepted work would drain in the background while the accept rate is measured, competing with
 * the intake for the platform's event loop and the two cores. To measure the intake, as the
 * floor does the writes alone, the judged run's function is held (`asyncConcurrency: 0`: its
 * work is accepted and stays queued). Two more runs show the intake while the platform also
 * works: on a function at `asyncConcurrency: 1`, whose backlog runs one at a time (the judged
 * case until 2026-12-06, when 0 was not allowed; one at a time costs the intake far more than
 * its share of the work, see docs/benchmarks.md), and at 64, whose backlog drains at full speed.
 * Each function is deleted right after its runs, which drops its backlog (queue and records),
 * so no later case inherits it.
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { runForJson } from './child.js';
import type { FloorResult } from './async-floor.js';
import { finishedTimes } from './async-records.js';
import { EVENT_BODY, PREFER_ASYNC, REQUEST_HEADERS } from './async-request.js';
import { cpuPerRequest, type ProcessGroup } from './cpu.js';
import type { LoadGenerator, RequestSpec } from './load.js';
import { deleteFunction, deployFunction, warmUp } from './nimbus.js';
import { tableRow, type Row } from './table.js';

/** What the async stages need from the run. */
export interface AsyncContext {
  origin: string;
  generator: LoadGenerator;
  seconds: number;
  warmupSeconds: number;
  /** The run's temporary folder (scripts, functions, the floor's files). */
  workDir: string;
  /** Package of examples/hello, already uploaded. */
  helloSha: string;
  /** The platform's process, whose CPU per accepted invocation is reported. */
  platformPid: number;
}

/** The case's parameters. */
export const ACCEPT = { concurrency: 50, heldConcurrency: 0, tricklingConcurrency: 1, drainingConcurrency: 64, floorBatches: [50, 1] } as const;

/** What the accept stage measured; written as-is to latest.json. */
export interface AcceptSummary {
  concurrency: number;
  bodyBytes: number;
  /** `POST /fn/<f>` without `Prefer`, expecting 200: the sync rate of the same function. */
  sync: Row;
  /** The same request with `Prefer: respond-async`, expecting 202, to the held function (its backlog waits). */
  accept: Row;
  heldConcurrency: number;
  /** The same to a function whose backlog runs one at a time meanwhile. */
  acceptTrickling?: Row;
  tricklingConcurrency: number;
  /** The same to a function whose backlog drains at full speed meanwhile. */
  acceptDraining?: Row;
  drainingConcurrency: number;
  /** Invocations that ran (succeeded) during the warm-up and run of e (none: it is held), of e1 and of f. */
  ranDuringAccept: number;
  ranDuringAcceptTrickling?: number;
  ranDuringAcceptDraining?: number;
  /** Milliseconds `DELETE /api/v1/functions/<f>` took with the held function's backlog. */
  deleteMs: number;
  /** The bare SQLite loop, per batch size (rows per transaction). */
  floor: FloorResult[];
  /**
   * CPU microseconds per request of each measured run (d, e, e1, f), by part: the platform's main
   * thread (its event loop, where the accept's work runs), the whole platform process, and the
   * processes below it (the function's instances). Moves much less with the machine than req/s.
   */
  cpuUs: { sync: Record<string, number>; accept: Record<string, number>; acceptTrickling?: Record<string, number>; acceptDraining?: Record<string, number> };
}

/** The request of the accept runs (async) or of the sync run of the same function. */
function requestSpec(async: boolean, scratchDir: string): RequestSpec {
  return {
    method: 'POST',
    headers: async ? { ...REQUEST_HEADERS, ...PREFER_ASYNC } : { ...REQUEST_HEADERS },
    body: EVENT_BODY,
    expectStatus: async ? 202 : 200,
    scratchDir,
  };
}

/** Deploys hello as `name` with `asyncConcurrency` and checks it answers. */
async function deployHello(ctx: AsyncContext, name: string, asyncConcurrency: number): Promise<string> {
  await deployFunction(ctx.origin, name, ctx.helloSha, {}, { asyncConcurrency });
  const url = `${ctx.origin}/fn/${name}`;
  await warmUp(url, 3);
  return url;
}

/** One measured case (after its warm-up, whose CPU is not counted), printed at once. */
async function run(ctx: AsyncContext, target: string, url: string, async: boolean): Promise<{ row: Row; cpuUs: Record<string, number> }> {
  const spec = requestSpec(async, ctx.workDir);
  if (ctx.warmupSeconds > 0) await ctx.generator.run(url, ACCEPT.concurrency, ctx.warmupSeconds, spec);
  const groups: ProcessGroup[] = [
    { label: 'main thread', pid: ctx.platformPid, mainThread: true },
    { label: 'platform', pid: ctx.platformPid },
    { label: 'instances', pid: ctx.platformPid, below: true },
  ];
  const { result, cpuUs } = await cpuPerRequest(groups, () => ctx.generator.run(url, ACCEPT.concurrency, ctx.seconds, spec));
  const row = { target, concurrency: ACCEPT.concurrency, result };
  console.error(tableRow(row));
  return { row, cpuUs };
}

/** The floor at one batch size, in its own process, on the platform's file system. */
function floor(ctx: AsyncContext, batch: number, fn: string): Promise<FloorResult> {
  const dir = join(ctx.workDir, `async-floor-${batch}`);
  const host = new URL(ctx.origin).host;
  return runForJson<FloorResult>('async floor', 'async-floor.js', [dir, String(ctx.seconds), String(batch), fn, host], (ctx.seconds + 60) * 1000);
}

/** Sync and async rates of hello at c=50, the floor, and the async rate while draining. */
export async function measureAccept(ctx: AsyncContext): Promise<AcceptSummary> {
  const held = 'async-accept';
  const url = await deployHello(ctx, held, ACCEPT.heldConcurrency);
  let sync: Row;
  let accept: Row;
  let syncCpu: Record<string, number>;
  let acceptCpu: Record<string, number>;
  let ranDuringAccept: number;
  let deleteMs: number;
  try {
    // Sync first: the async run's backlog would otherwise be running under the sync measurement.
    ({ row: sync, cpuUs: syncCpu } = await run(ctx, 'd sync POST (same fn)', url, false));
    ({ row: accept, cpuUs: acceptCpu } = await run(ctx, 'e async accept', url, true));
    ranDuringAccept = (await finishedTimes(ctx.origin, held, 'succeeded')).length;
  } finally {
    // Also on a failure: its backlog must not run under the later cases.
    const deleting = performance.now();
    await deleteFunction(ctx.origin, held);
    deleteMs = performance.now() - deleting;
  }
  const floors: FloorResult[] = [];
  for (const batch of ACCEPT.floorBatches) {
    const result = await floor(ctx, batch, held);
    console.error(`async floor, transactions of ${batch}: ${result.rowsPerSecond.toFixed(0)} rows/s (payload ${result.payloadBytes} B)`);
    floors.push(result);
  }
  const summary: AcceptSummary = {
    concurrency: ACCEPT.concurrency,
    bodyBytes: Buffer.byteLength(EVENT_BODY),
    sync,
    accept,
    heldConcurrency: ACCEPT.heldConcurrency,
    tricklingConcurrency: ACCEPT.tricklingConcurrency,
    drainingConcurrency: ACCEPT.drainingConcurrency,
    ranDuringAccept,
    deleteMs,
    floor: floors,
    cpuUs: { sync: syncCpu, accept: acceptCpu },
  };
  const trickling = await whileRunning(ctx, 'async-accept-trickle', `e1 async, drain at ${ACCEPT.tricklingConcurrency}`, ACCEPT.tricklingConcurrency);
  summary.acceptTrickling = trickling.row;
  summary.cpuUs.acceptTrickling = trickling.cpuUs;
  summary.ranDuringAcceptTrickling = trickling.ran;
  const draining = await whileRunning(ctx, 'async-accept-drain', `f async, drain at ${ACCEPT.drainingConcurrency}`, ACCEPT.drainingConcurrency);
  summary.acceptDraining = draining.row;
  summary.cpuUs.acceptDraining = draining.cpuUs;
  summary.ranDuringAcceptDraining = draining.ran;
  return summary;
}

/** One accept run on a function of its own whose backlog runs at `asyncConcurrency` meanwhile; the function is deleted after. */
async function whileRunning(ctx: AsyncContext, name: string, target: string, asyncConcurrency: number): Promise<{ row: Row; cpuUs: Record<string, number>; ran: number }> {
  const url = await deployHello(ctx, name, asyncConcurrency);
  try {
    const { row, cpuUs } = await run(ctx, target, url, true);
    return { row, cpuUs, ran: (await finishedTimes(ctx.origin, name, 'succeeded')).length };
  } finally {
    await deleteFunction(ctx.origin, name);
  }
}
