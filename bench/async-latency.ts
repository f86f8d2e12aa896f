/**
 * Latency from the 202 to the start of the handler, on an idle platform with a warm instance.
 *
 * The function (written to a temporary folder) answers with the wall-clock time at which its
 * handler started, `performance.timeOrigin + performance.now()` (sub-millisecond; the instance
 * runs on the same machine and the same clock as this process). One invocation at a time: send
 * `POST /fn/async-stamp` with `Prefer: respond-async` on an open keep-alive connection, note the
 * time the 202's headers arrived, wait 20 ms, then read the invocation's record until it has
 * ended (the wait keeps the polls out of the measured path), and take the handler's stamp from
 * the stored response. Each figure is stamp - 202 arrival; it can be negative, since the platform
 * wakes its dispatcher before it writes the 202. The record's `startedAt` (when the dispatcher
 * began the attempt, whole milliseconds) gives the dispatcher's share.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';
import type { AsyncContext } from './async-accept.js';
import { EVENT_BODY, PREFER_ASYNC, REQUEST_HEADERS } from './async-request.js';
import { apiGet, deployFunction, packDir, uploadPackage, warmUp } from './nimbus.js';
import { quantile } from './report.js';

/** The case's parameters. */
export const START_LATENCY = { name: 'async-stamp', runs: 200, warmupRuns: 20, settleMs: 20 } as const;

/** Answers the time its handler started, epoch milliseconds with a fraction. */
const SOURCE = `export default {
  fetch() {
    const startedAt = performance.timeOrigin + performance.now();
    return new Response(String(startedAt));
  },
};
`;

/** Percentiles of a list of milliseconds. */
export interface Spread {
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

/** What the latency stage measured; written as-is to latest.json. */
export interface StartLatencySummary {
  runs: number;
  /** 202 arrival -> handler start (the figure judged against the target). */
  startMs: Spread;
  /** 202 arrival -> the record's startedAt (dispatcher began the attempt; 1 ms resolution). */
  dispatchMs: Spread;
  /** Request sent -> 202 headers arrived, one at a time. */
  acceptMs: Spread;
  /** Invocations that did not succeed, or whose record said nothing usable. */
  errors: number;
  samples: Array<{ startMs: number; dispatchMs: number; acceptMs: number }>;
}

/** The parts of an invocation record read here. */
interface RecordView {
  status?: string;
  startedAt?: string | null;
  response?: { body?: string } | null;
}

function spread(values: number[]): Spread {
  return { p50: quantile(values, 0.5), p90: quantile(values, 0.9), p99: quantile(values, 0.99), min: Math.min(...values), max: Math.max(...values) };
}

/** Reads the record until it has ended (at most 10 s). */
async function ended(origin: string, id: string): Promise<RecordView> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const record = (await apiGet(origin, `/api/v1/invocations/${id}`)) as RecordView;
    if (record.status === 'succeeded' || record.status === 'failed' || record.status === 'dead') return record;
    if (performance.now() > deadline) throw new Error(`invocation ${id} still ${record.status} after 10 s`);
    await sleep(10);
  }
}

/** One async invocation: its sample, or undefined when it did not succeed. */
async function once(client: Client, origin: string): Promise<StartLatencySummary['samples'][number] | undefined> {
  const sent = performance.now();
  const res = await client.request({
    method: 'POST',
    path: `/fn/${START_LATENCY.name}`,
    headers: { ...REQUEST_HEADERS, ...PREFER_ASYNC },
    body: EVENT_BODY,
    headersTimeout: 10_000,
  });
  // undici resolves request() once the status line and headers have arrived.
  const arrived = performance.now();
  const arrivedAt = performance.timeOrigin + arrived;
  const answer = (await res.body.json()) as { id?: string };
  if (res.statusCode !== 202 || typeof answer.id !== 'string') throw new Error(`async invoke answered ${res.statusCode}: ${JSON.stringify(answer)}`);
  await sleep(START_LATENCY.settleMs);
  const record = await ended(origin, answer.id);
  const stamp = Number(record.response?.body);
  const startedAt = Date.parse(record.startedAt ?? '');
  if (record.status !== 'succeeded' || !Number.isFinite(stamp) || !Number.isFinite(startedAt)) return undefined;
  return { startMs: stamp - arrivedAt, dispatchMs: startedAt - arrivedAt, acceptMs: arrived - sent };
}

/** Deploys the stamping function, warms it, and measures {@link START_LATENCY}.runs invocations. */
export async function measureStartLatency(ctx: AsyncContext): Promise<StartLatencySummary> {
  const dir = join(ctx.workDir, 'async-stamp-fn');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), SOURCE);
  const sha = await uploadPackage(ctx.origin, await packDir(dir));
  await deployFunction(ctx.origin, START_LATENCY.name, sha);
  await warmUp(`${ctx.origin}/fn/${START_LATENCY.name}`, 5);
  const client = new Client(ctx.origin, { keepAliveTimeout: 60_000, pipelining: 1 });
  const samples: StartLatencySummary['samples'] = [];
  let errors = 0;
  try {
    for (let i = 0; i < START_LATENCY.warmupRuns; i++) await once(client, ctx.origin);
    for (let i = 0; i < START_LATENCY.runs; i++) {
      const sample = await once(client, ctx.origin);
      if (sample) samples.push(sample);
      else errors++;
    }
  } finally {
    await client.close();
  }
  if (samples.length === 0) throw new Error(`none of ${START_LATENCY.runs} async invocations succeeded`);
  return {
    runs: samples.length,
    startMs: spread(samples.map((s) => s.startMs)),
    dispatchMs: spread(samples.map((s) => s.dispatchMs)),
    acceptMs: spread(samples.map((s) => s.acceptMs)),
    errors,
    samples,
  };
}
