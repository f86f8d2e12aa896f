/**
 * The drain of 10,000 queued invocations of hello, running at `asyncConcurrency: 64` (one
 * instance's worth: a node function's concurrency is 64; the autoscaler may add instances, as
 * it would for a real backlog). Two cases, each on a function of its own:
 *
 * - **queued, then released** (the figure judged against the target): the function is held
 *   (`asyncConcurrency: 0`) while an enqueuer process (bench/async-enqueue.ts) sends the 10,000
 *   over 50 connections (none runs meanwhile; until 2026-12-06, when 0 was not allowed, it was
 *   held at 1 and a few hundred ran one at a time), then redeployed with `asyncConcurrency: 64`,
 *   as an operator releases a held backlog. The judged drain is timed from the redeploy's answer
 *   (the new setting in effect) to the last `finishedAt`; it includes the start of the new
 *   version's first instance and the time that instance takes to reach full speed. The redeploy
 *   itself (its new code is loaded once in a short-lived instance before it is stored, about half
 *   a second here, while the backlog is still held) is a deploy's figure, not the queue's; the
 *   rate from sending the redeploy is printed beside it.
 * - **intake and drain together**: deployed with 64 from the start and enqueued the same way,
 *   as in use; timed from the first 202 to the last `finishedAt` (end to end), and from the last
 *   202 to the last `finishedAt` (the backlog left when the intake ended).
 *
 * After the enqueue the bench polls the listing (`status=queued|running|retrying`, `limit=1`,
 * every 100 ms, a few index reads) until nothing is pending, then reads every record back and
 * works from their `finishedAt`, so no poll is in the measured path. Each function is deleted
 * afterwards, its 10,000 records with it.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AsyncContext } from './async-accept.js';
import type { EnqueueReport } from './async-enqueue.js';
import { anyPending, finishedTimes } from './async-records.js';
import { runForJson } from './child.js';
import { deleteFunction, deployFunction, instanceCount, warmUp } from './nimbus.js';

/** The case's parameters. */
export const DRAIN = { count: 10_000, connections: 50, heldConcurrency: 0, asyncConcurrency: 64, pollMs: 100, timeoutMs: 300_000 } as const;

/** One drain case; written as-is to latest.json. Times are epoch milliseconds. */
export interface DrainCase {
  /** `released`: enqueued while held (asyncConcurrency 0), then redeployed; `together`: 64 throughout. */
  mode: 'released' | 'together';
  count: number;
  connections: number;
  asyncConcurrency: number;
  /** `released`: the asyncConcurrency during the enqueue. */
  heldConcurrency?: number;
  enqueue: EnqueueReport;
  /** When the drain window starts: the redeploy has answered (released) or the last 202 arrived (together). */
  windowStart: number;
  /** `released`: when the redeploy was sent, and the rate counted from then (what was judged before 2026-12-05). */
  redeploySentAt?: number;
  fromRedeploySentPerSecond?: number;
  /** Records that ended succeeded, and those that ended otherwise (failed, dead). */
  succeeded: number;
  notSucceeded: number;
  lastFinishedAt: number;
  /** Succeeded before the window started. */
  doneBefore: number;
  /** Window start -> last finishedAt, and the invocations finished in it / that. */
  drainMs: number;
  drainPerSecond: number;
  /** First 202 -> last finishedAt, and succeeded / that (meaningful for `together`). */
  totalMs: number;
  totalPerSecond: number;
  instancesAfter: number;
  /** Invocations finished in each second from the window's start. */
  perSecond: number[];
}

/** Both drain cases; `drain` in latest.json's `async`. */
export interface DrainSummary {
  released?: DrainCase;
  together?: DrainCase;
}

/** Wait until no invocation of `fn` is pending. */
async function drained(origin: string, fn: string): Promise<void> {
  const deadline = performance.now() + DRAIN.timeoutMs;
  while (await anyPending(origin, fn)) {
    if (performance.now() > deadline) throw new Error(`invocations of ${fn} still pending ${DRAIN.timeoutMs / 1000} s after the enqueue`);
    await sleep(DRAIN.pollMs);
  }
}

/** Enqueue {@link DRAIN}.count invocations of hello in one mode, wait for them to end, and summarise. */
async function drainCase(ctx: AsyncContext, mode: DrainCase['mode']): Promise<DrainCase> {
  const fn = `async-drain-${mode}`;
  const deploy = (asyncConcurrency: number) => deployFunction(ctx.origin, fn, ctx.helloSha, {}, { asyncConcurrency });
  await deploy(mode === 'released' ? DRAIN.heldConcurrency : DRAIN.asyncConcurrency);
  try {
    await warmUp(`${ctx.origin}/fn/${fn}`, 3);
    const args = [ctx.origin, fn, String(DRAIN.count), String(DRAIN.connections)];
    const enqueue = await runForJson<EnqueueReport>('async enqueuer', 'async-enqueue.js', args, DRAIN.timeoutMs);
    let windowStart = enqueue.lastAcceptedAt;
    let redeploySentAt: number | undefined;
    if (mode === 'released') {
      redeploySentAt = performance.timeOrigin + performance.now();
      await deploy(DRAIN.asyncConcurrency);
      windowStart = performance.timeOrigin + performance.now();
    }
    await drained(ctx.origin, fn);
    const succeeded = await finishedTimes(ctx.origin, fn, 'succeeded');
    const others = [...(await finishedTimes(ctx.origin, fn, 'failed')), ...(await finishedTimes(ctx.origin, fn, 'dead'))];
    const summary = summarise(mode, enqueue, windowStart, succeeded, others.length, await instanceCount(ctx.origin, fn));
    if (redeploySentAt !== undefined) {
      summary.redeploySentAt = redeploySentAt;
      summary.fromRedeploySentPerSecond = (succeeded.filter((at) => at > redeploySentAt).length * 1000) / (summary.lastFinishedAt - redeploySentAt);
    }
    return summary;
  } finally {
    await deleteFunction(ctx.origin, fn);
  }
}

/** Both cases, the judged one first. */
export async function measureDrain(ctx: AsyncContext): Promise<DrainSummary> {
  const summary: DrainSummary = {};
  for (const mode of ['released', 'together'] as const) {
    const result = await drainCase(ctx, mode);
    console.error(`async drain (${mode}): ${result.drainPerSecond.toFixed(0)} completed/s in the window, ${result.doneBefore} done before it`);
    summary[mode] = result;
  }
  return summary;
}

function summarise(mode: DrainCase['mode'], enqueue: EnqueueReport, windowStart: number, finished: number[], notSucceeded: number, instancesAfter: number): DrainCase {
  const lastFinishedAt = Math.max(...finished);
  const inWindow = finished.filter((at) => at > windowStart);
  const drainMs = lastFinishedAt - windowStart;
  const totalMs = lastFinishedAt - enqueue.firstAcceptedAt;
  const perSecond: number[] = [];
  for (const at of inWindow) {
    const second = Math.floor((at - windowStart) / 1000);
    while (perSecond.length <= second) perSecond.push(0);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
  }
  return {
    mode,
    count: DRAIN.count,
    connections: DRAIN.connections,
    asyncConcurrency: DRAIN.asyncConcurrency,
    ...(mode === 'released' ? { heldConcurrency: DRAIN.heldConcurrency } : {}),
    enqueue,
    windowStart,
    succeeded: finished.length,
    notSucceeded,
    lastFinishedAt,
    doneBefore: finished.length - inWindow.length,
    drainMs,
    drainPerSecond: drainMs > 0 ? (inWindow.length * 1000) / drainMs : Number.NaN,
    totalMs,
    totalPerSecond: totalMs > 0 ? (finished.length * 1000) / totalMs : Number.NaN,
    instancesAfter,
    perSecond,
  };
}
