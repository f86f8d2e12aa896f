/**
 * Events from NATS JetStream to a function through a `nats` trigger (issue 13), on a running
 * platform and the NATS server on 127.0.0.1:4222 (skipped, with the reason, when it is not there):
 *
 * - latency: publish -> handler start on an idle platform with a warm instance. One message at a
 *   time; the function (written to a temporary folder) answers the wall-clock time its handler
 *   started (`performance.timeOrigin + performance.now()`, the same clock as this process), read
 *   back from the invocation record once it has ended; each figure is that stamp minus the time
 *   just before `publish` was called. Target p50 <= 10 ms.
 * - throughput: N messages published as fast as the publisher can (acknowledged by JetStream in
 *   windows), then the time from the first publish until the function has handled them all,
 *   counted cheaply by `nimbus_invocations_total{source="trigger"}` on `/metrics`. The report
 *   prints it beside the async accept rate of the same run.
 *
 * A stage of `npm run bench`, and runnable alone (its own platform):
 * `npm run build && node dist/bench/trigger-nats.js [--events 5000] [--runs 200]`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { stopAllChildren, stopChild } from './child.js';
import { apiGet, apiPost, deployFunction, getText, HELLO_DIR, packDir, startNimbus, uploadPackage, warmUp } from './nimbus.js';
import { quantile } from './report.js';
import { formatTriggerNats } from './report-trigger.js';

/** The stage's parameters. */
export const TRIGGER_NATS = {
  url: 'nats://127.0.0.1:4222',
  events: 5_000,
  runs: 200,
  warmupRuns: 20,
  /** Messages awaiting JetStream's acknowledgement at once while publishing the throughput batch. */
  publishWindow: 256,
  /** The throughput function's async concurrency (as in the async drain stage). */
  asyncConcurrency: 64,
  settleMs: 20,
  timeoutMs: 120_000,
} as const;

/** Answers the time its handler started, epoch milliseconds with a fraction. */
const STAMP_SOURCE = `export default {
  fetch() {
    const startedAt = performance.timeOrigin + performance.now();
    return new Response(String(startedAt));
  },
};
`;

/** What the stage measured; `triggerNats` in bench/results/latest.json. */
export type TriggerNatsSummary =
  | { skipped: string }
  | {
      /** Publish -> handler start, one message at a time (ms). */
      latency: { runs: number; errors: number; p50: number; p90: number; p99: number; min: number; max: number };
      throughput: {
        events: number;
        asyncConcurrency: number;
        /** First publish -> the last event handled. */
        totalMs: number;
        eventsPerSecond: number;
        /** How fast the publisher got its acknowledgements (the intake's ceiling here). */
        publishPerSecond: number;
      };
    };

/** The run's context: the platform and a scratch folder. */
export interface TriggerNatsContext {
  origin: string;
  workDir: string;
}

/** Measures both cases on the platform at `ctx.origin`; skipped when NATS does not answer. */
export async function measureTriggerNats(ctx: TriggerNatsContext, options: { events?: number; runs?: number } = {}): Promise<TriggerNatsSummary> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: TRIGGER_NATS.url, timeout: 2_000 });
  } catch (err) {
    return { skipped: `NATS not reachable on ${TRIGGER_NATS.url} (${(err as Error).message})` };
  }
  const prefix = `nimbus-bench-${randomBytes(4).toString('hex')}`;
  const streams: string[] = [];
  const jsm = await jetstreamManager(nc);
  try {
    const js = jetstream(nc);
    const stream = async (name: string) => {
      const streamName = `${prefix}-${name}`.toUpperCase().replace(/-/g, '_');
      await jsm.streams.add({ name: streamName, subjects: [`${prefix}.${name}`] });
      streams.push(streamName);
      return { stream: streamName, subject: `${prefix}.${name}` };
    };
    const latency = await measureLatency(ctx, js, await stream('latency'), options.runs ?? TRIGGER_NATS.runs);
    const throughput = await measureThroughput(ctx, js, await stream('throughput'), options.events ?? TRIGGER_NATS.events);
    return { latency, throughput };
  } finally {
    for (const name of streams) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}

/** Creates a nats trigger on `stream` for `fn` and waits until its source consumes. */
async function natsTrigger(origin: string, name: string, fn: string, on: { stream: string; subject: string }): Promise<void> {
  await apiPost(origin, '/api/v1/triggers', { name, function: fn, type: 'nats', settings: { url: TRIGGER_NATS.url, subject: on.subject, stream: on.stream } });
  const deadline = performance.now() + 20_000;
  for (;;) {
    const view = (await apiGet(origin, `/api/v1/triggers/${name}`)) as { status?: string; error?: string };
    if (view.status === 'active') return;
    if (performance.now() > deadline) throw new Error(`trigger ${name} is ${view.status ?? '?'} after 20 s: ${view.error ?? ''}`);
    await sleep(50);
  }
}

/** The newest invocation of `fn` once it is another than `previous` and has ended (at most 10 s). */
async function nextEnded(origin: string, fn: string, previous: string | undefined): Promise<{ id: string; status: string; body?: string | undefined }> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const list = (await apiGet(origin, `/api/v1/invocations?function=${fn}&limit=1`)) as { invocations: Array<{ id: string; status: string }> };
    const newest = list.invocations[0];
    if (newest && newest.id !== previous && ['succeeded', 'failed', 'dead'].includes(newest.status)) {
      const record = (await apiGet(origin, `/api/v1/invocations/${newest.id}`)) as { response?: { body?: string } | null };
      return { id: newest.id, status: newest.status, body: record.response?.body };
    }
    if (performance.now() > deadline) throw new Error(`no new ended invocation of ${fn} within 10 s (newest: ${newest?.id ?? 'none'} ${newest?.status ?? ''})`);
    await sleep(5);
  }
}

async function measureLatency(ctx: TriggerNatsContext, js: JetStreamClient, on: { stream: string; subject: string }, runs: number): Promise<Extract<TriggerNatsSummary, { latency: unknown }>['latency']> {
  const fn = 'nats-stamp';
  const dir = join(ctx.workDir, 'nats-stamp-fn');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), STAMP_SOURCE);
  await deployFunction(ctx.origin, fn, await uploadPackage(ctx.origin, await packDir(dir)));
  await warmUp(`${ctx.origin}/fn/${fn}`, 5);
  await natsTrigger(ctx.origin, 'bench-latency', fn, on);
  const samples: number[] = [];
  let errors = 0;
  let previous: string | undefined;
  for (let i = 0; i < TRIGGER_NATS.warmupRuns + runs; i++) {
    const publishedAt = performance.timeOrigin + performance.now();
    await js.publish(on.subject, `m${i}`);
    await sleep(TRIGGER_NATS.settleMs);
    const ended = await nextEnded(ctx.origin, fn, previous);
    previous = ended.id;
    if (i < TRIGGER_NATS.warmupRuns) continue;
    const stamp = Number(ended.body);
    if (ended.status === 'succeeded' && Number.isFinite(stamp)) samples.push(stamp - publishedAt);
    else errors++;
  }
  if (samples.length === 0) throw new Error(`none of ${runs} events reached the function`);
  return { runs: samples.length, errors, p50: quantile(samples, 0.5), p90: quantile(samples, 0.9), p99: quantile(samples, 0.99), min: Math.min(...samples), max: Math.max(...samples) };
}

/** Ended trigger invocations of `fn` so far, from `/metrics` (0 before the first). */
async function handled(origin: string, fn: string): Promise<number> {
  const text = await getText(origin, '/metrics');
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('nimbus_invocations_total{') && line.includes(`function="${fn}"`) && line.includes('source="trigger"')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function measureThroughput(ctx: TriggerNatsContext, js: JetStreamClient, on: { stream: string; subject: string }, events: number): Promise<Extract<TriggerNatsSummary, { throughput: unknown }>['throughput']> {
  const fn = 'nats-hello';
  await deployFunction(ctx.origin, fn, await uploadPackage(ctx.origin, await packDir(HELLO_DIR)), {}, { asyncConcurrency: TRIGGER_NATS.asyncConcurrency });
  await warmUp(`${ctx.origin}/fn/${fn}`, 3);
  await natsTrigger(ctx.origin, 'bench-throughput', fn, on);
  const before = await handled(ctx.origin, fn);
  const payload = JSON.stringify({ hello: 'world' });
  const started = performance.now();
  for (let sent = 0; sent < events; sent += TRIGGER_NATS.publishWindow) {
    const window = Math.min(TRIGGER_NATS.publishWindow, events - sent);
    await Promise.all(Array.from({ length: window }, () => js.publish(on.subject, payload)));
  }
  const publishMs = performance.now() - started;
  for (;;) {
    const done = (await handled(ctx.origin, fn)) - before;
    if (done >= events) break;
    if (performance.now() - started > TRIGGER_NATS.timeoutMs) throw new Error(`${done} of ${events} events handled after ${TRIGGER_NATS.timeoutMs / 1000} s`);
    await sleep(20);
  }
  const totalMs = performance.now() - started;
  return { events, asyncConcurrency: TRIGGER_NATS.asyncConcurrency, totalMs, eventsPerSecond: (events * 1000) / totalMs, publishPerSecond: (events * 1000) / publishMs };
}

function numberFlag(argv: string[], flag: string, fallback: number): number {
  const i = argv.indexOf(flag);
  const value = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number >= 1`);
  return value;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const work = mkdtempSync(join(tmpdir(), 'nimbus-bench-trigger-'));
  const nimbus = await startNimbus(join(work, 'nimbus-data'));
  try {
    const summary = await measureTriggerNats({ origin: nimbus.origin, workDir: work }, { events: numberFlag(argv, '--events', TRIGGER_NATS.events), runs: numberFlag(argv, '--runs', TRIGGER_NATS.runs) });
    console.log(formatTriggerNats(summary, undefined, undefined).join('\n'));
  } finally {
    await stopChild(nimbus.child, 5000);
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(async (err: unknown) => {
    await stopAllChildren();
    console.error(`trigger bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
