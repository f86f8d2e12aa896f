/**
 * What the metrics listener costs per invocation: runs `InvocationMetrics.record` over synthetic
 * `InvocationEnded` events (20 functions, the three sources, mostly 2xx, some 4xx/5xx, platform
 * errors, abandoned calls and cold starts, all prepared up front) and prints nanoseconds per
 * event. A micro-measurement that needs no platform and no load generator:
 * `npm run build && node dist/bench/metrics-overhead.js [events]` (default 1e6).
 */
import { Registry } from 'prom-client';
import type { InvocationEnded } from '../src/core/invocation.js';
import { InvocationMetrics } from '../src/telemetry/invocation-metrics.js';

const EVENTS = Number(process.argv[2] ?? 1e6);
/** Distinct events cycled through (enough variety that lookups are not all one cache line). */
const VARIETY = 4096;

function syntheticEvents(): InvocationEnded[] {
  const events: InvocationEnded[] = [];
  const sources = ['http', 'http', 'http', 'async', 'trigger'] as const;
  for (let i = 0; i < VARIETY; i++) {
    const kind = i % 50;
    const cold = i % 97 === 0;
    const base: InvocationEnded = {
      invocationId: `inv-${i}`,
      function: `fn-${i % 20}`,
      version: 1,
      source: sources[i % sources.length] ?? 'http',
      attempt: 1,
      startedAt: 1_700_000_000_000 + i,
      outcome: 'response',
      status: kind === 1 ? 404 : kind === 2 ? 500 : 200,
      coldStart: cold,
      timings: { queueMs: cold ? 0.4 : 0, startMs: cold ? 35 : 0, handlerMs: 0.2 + (i % 13) * 0.7, totalMs: 0.3 + (i % 13) * 0.7 + (cold ? 35.4 : 0) },
      bytesIn: i % 3 === 0 ? 0 : 120,
      bytesOut: 512,
      method: 'GET',
      path: '/',
      memoryMb: 128,
    };
    if (kind === 3) events.push({ ...base, outcome: 'error', status: undefined, error: { code: 'FUNCTION_TIMEOUT', retryable: true } } as InvocationEnded);
    else if (kind === 4) events.push({ ...base, outcome: 'abandoned', status: undefined } as InvocationEnded);
    else events.push(base);
  }
  return events;
}

const events = syntheticEvents();
const metrics = new InvocationMetrics(new Registry());
const record = metrics.record;
// Warm up: the series exist and the JIT has seen the listener before we time it.
for (let i = 0; i < 200_000; i++) record(events[i % VARIETY] as InvocationEnded);

const runs: number[] = [];
for (let run = 0; run < 3; run++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i++) record(events[i % VARIETY] as InvocationEnded);
  runs.push(Number(process.hrtime.bigint() - start) / EVENTS);
}
runs.sort((a, b) => a - b);
console.log(`metrics listener: ${runs[1]?.toFixed(0)} ns/event (median of 3 runs of ${EVENTS} events; runs: ${runs.map((r) => r.toFixed(0)).join(', ')})`);
