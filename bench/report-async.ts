/**
 * The async figures of the report (issue #12): accept rate beside the sync rate of the same
 * function and the SQLite floor, 202 -> handler start, and the drain of 10,000, each with its
 * target (printed, not asserted).
 */
import type { AcceptSummary } from './async-accept.js';
import type { DrainCase, DrainSummary } from './async-drain.js';
import type { Spread, StartLatencySummary } from './async-latency.js';
import { fixed, tableHeader, tableRow, type Row } from './table.js';

/** The issue's targets for this 2-core machine. */
export const ASYNC_TARGETS = { acceptPerSecond: 10_000, startP50Ms: 5, drainPerSecond: 5_000 } as const;

/** Everything the async stages measured; `async` in bench/results/latest.json. */
export interface AsyncResults {
  accept?: AcceptSummary;
  startLatency?: StartLatencySummary;
  drain?: DrainSummary;
}

/** The stage names, as they appear in `stageErrors`. */
export const ASYNC_STAGES = { accept: 'async accept', startLatency: 'async 202 to start', drain: 'async drain' } as const;

const rate = (row: Row | undefined): number => row?.result.requestsPerSecond ?? Number.NaN;
const spreadText = (s: Spread): string => `p50 ${fixed(s.p50, 2)} ms  p90 ${fixed(s.p90, 2)} ms  p99 ${fixed(s.p99, 2)} ms  (min ${fixed(s.min, 2)}, max ${fixed(s.max, 2)})`;

/** The async lines of the report; failed stages say why in their place. */
export function formatAsync(results: AsyncResults | undefined, stageErrors: Record<string, string> | undefined): string[] {
  const lines: string[] = [];
  const failed = (key: keyof typeof ASYNC_STAGES): string[] => {
    const reason = stageErrors?.[ASYNC_STAGES[key]];
    return reason ? [`${ASYNC_STAGES[key]}: FAILED: ${reason}`] : [];
  };
  lines.push(...failed('accept'), ...formatAccept(results?.accept));
  lines.push(...failed('startLatency'), ...formatStart(results?.startLatency));
  lines.push(...failed('drain'), ...formatDrain(results?.drain));
  return lines.length === 0 ? [] : ['', 'async invocations:', ...lines];
}

function formatAccept(a: AcceptSummary | undefined): string[] {
  if (!a) return [];
  const top = a.floor.find((f) => f.batch === Math.max(...a.floor.map((x) => x.batch)));
  const accepted = rate(a.accept);
  const floors = a.floor.map((f) => `${fixed(f.rowsPerSecond, 0)}/s in transactions of ${f.batch}${f.batch === 1 ? ' (no group commit)' : ''}`);
  const lines = [
    `accept: ${fixed(accepted, 0)} accepted/s at c=${a.concurrency} (target >= ${ASYNC_TARGETS.acceptPerSecond}) = ${fixed(accepted / rate(a.sync), 2)} x the sync rate ` +
      `of the same function, ${fixed(accepted / (top?.rowsPerSecond ?? Number.NaN), 2)} x the SQLite floor`,
    `  POST /fn/<hello> with a ${a.bodyBytes}-byte JSON body: without Prefer (d, every answer must be 200) and with Prefer: respond-async (e, e1, f: 202)`,
    `  ${tableHeader()}`,
  ];
  for (const row of [a.sync, a.accept, a.acceptTrickling, a.acceptDraining]) if (row) lines.push(`  ${tableRow(row)}`);
  const cpu = (label: string, used: Record<string, number> | undefined) =>
    used ? `${label} ${fixed(used['main thread'] ?? Number.NaN, 1)} / ${fixed(used['platform'] ?? Number.NaN, 1)} / ${fixed(used['instances'] ?? Number.NaN, 1)}` : undefined;
  const parts = [cpu('d', a.cpuUs.sync), cpu('e', a.cpuUs.accept), cpu('e1', a.cpuUs.acceptTrickling), cpu('f', a.cpuUs.acceptDraining)].filter((part) => part !== undefined);
  lines.push(`  CPU per request, us (user + system; platform main thread / whole platform process / its instances): ${parts.join(';  ')}`);
  lines.push(
    `  e: asyncConcurrency ${a.heldConcurrency}, its backlog held in the queue (${a.ranDuringAccept} ran over warm-up and run), dropped afterwards with the function (${fixed(a.deleteMs, 0)} ms)`,
    `  e1: asyncConcurrency ${a.tricklingConcurrency}, its backlog runs one at a time meanwhile (${a.ranDuringAcceptTrickling ?? '?'} ran over warm-up and run)`,
    `  f: asyncConcurrency ${a.drainingConcurrency}, its backlog drains meanwhile (${a.ranDuringAcceptDraining ?? '?'} ran over warm-up and run)`,
    `  floor, a bare better-sqlite3 loop writing one queue row (${a.floor[0]?.payloadBytes ?? '?'} B payload; WAL, synchronous=FULL) and one record row (WAL, NORMAL) ` +
      `per invocation in the platform's tables: ${floors.join(';  ')}`,
    `    (one transaction per file per group; ${top?.batch ?? '?'} = the largest group ${a.concurrency} concurrent requests can form)`,
  );
  return lines;
}

function formatStart(s: StartLatencySummary | undefined): string[] {
  if (!s) return [];
  const lines = [
    `202 -> handler start (idle platform, warm instance, ${s.runs} invocations one at a time): ${spreadText(s.startMs)}  (target p50 <= ${ASYNC_TARGETS.startP50Ms} ms)`,
    `  202 -> dispatcher began (record startedAt, 1 ms resolution): p50 ${fixed(s.dispatchMs.p50, 1)} ms  p90 ${fixed(s.dispatchMs.p90, 1)} ms;  ` +
      `request sent -> 202: p50 ${fixed(s.acceptMs.p50, 2)} ms  p99 ${fixed(s.acceptMs.p99, 2)} ms`,
  ];
  if (s.errors > 0) lines.push(`  warning: ${s.errors} invocations did not succeed and are left out`);
  return lines;
}

function formatDrain(d: DrainSummary | undefined): string[] {
  if (!d) return [];
  const lines: string[] = [];
  const r = d.released;
  if (r) {
    lines.push(
      `drain of ${r.count} queued invocations of hello (enqueued with asyncConcurrency ${r.heldConcurrency ?? '?'}, then redeployed with ${r.asyncConcurrency}): ` +
        `${fixed(r.drainPerSecond, 0)} completed/s from the redeploy's answer to the last done (target >= ${ASYNC_TARGETS.drainPerSecond})`,
      `  ${r.succeeded - r.doneBefore} done in ${fixed(r.drainMs, 0)} ms (${r.doneBefore} ran before the window); ${enqueueText(r)}; ${r.instancesAfter} instances after`,
      ...(r.redeploySentAt !== undefined
        ? [`  the redeploy took ${fixed(r.windowStart - r.redeploySentAt, 0)} ms; counted from sending it: ${fixed(r.fromRedeploySentPerSecond ?? Number.NaN, 0)} completed/s`]
        : []),
      `  completed in each second of the window: ${r.perSecond.join(', ')}`,
      ...caseWarnings(r),
    );
  }
  const t = d.together;
  if (t) {
    lines.push(
      `intake and drain together (asyncConcurrency ${t.asyncConcurrency} throughout): end to end ${fixed(t.totalPerSecond, 0)} completed/s ` +
        `(first 202 -> last done ${fixed(t.totalMs, 0)} ms); ` +
        (t.succeeded > t.doneBefore
          ? `after the last 202: ${fixed(t.drainPerSecond, 0)}/s (${t.succeeded - t.doneBefore} in ${fixed(t.drainMs, 0)} ms)`
          : `the backlog kept up with the intake: nothing was left after the last 202`),
      `  ${enqueueText(t)}, ${t.doneBefore} done meanwhile; ${t.instancesAfter} instances after`,
      ...caseWarnings(t),
    );
  }
  return lines;
}

/** The intake of a drain case: how long the 202s took to arrive, and their rate. */
function enqueueText(c: DrainCase): string {
  const e = c.enqueue;
  const ms = e.lastAcceptedAt - e.firstAcceptedAt;
  return `enqueued over ${c.connections} connections in ${fixed(ms, 0)} ms (${fixed((e.accepted * 1000) / ms, 0)} accepted/s)`;
}

function caseWarnings(c: DrainCase): string[] {
  const errors = Object.entries(c.enqueue.errors).map(([key, n]) => `${key} x${n}`).join(', ');
  if (c.succeeded === c.count && c.notSucceeded === 0 && !errors) return [];
  return [`  warning: ${c.succeeded} of ${c.count} succeeded, ${c.notSucceeded} failed or dead${errors ? `; enqueue errors: ${errors}` : ''}`];
}
