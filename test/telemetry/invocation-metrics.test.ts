/**
 * The invocation metrics: InvocationEnded events in, the registry's text output read back with
 * exact values (counters by outcome and source, histogram buckets, sums and counts, cold-start
 * phases, bytes), and a removed function's series gone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { InvocationEnded } from '../../src/core/invocation.js';
import { InvocationMetrics } from '../../src/telemetry/invocation-metrics.js';
import { parseMetrics, samplesOf, valueOf } from './prom-text.js';

function ended(overrides: Partial<InvocationEnded> = {}): InvocationEnded {
  return {
    invocationId: 'id',
    function: 'hello',
    version: 1,
    source: 'http',
    attempt: 1,
    startedAt: 0,
    outcome: 'response',
    status: 200,
    coldStart: false,
    timings: { queueMs: 0, startMs: 0, handlerMs: 3, totalMs: 4 },
    bytesIn: 0,
    bytesOut: 0,
    method: 'GET',
    path: '/',
    memoryMb: 128,
    ...overrides,
  };
}

async function scrape(registry: Registry) {
  return parseMetrics(await registry.metrics());
}

describe('invocation metrics', () => {
  test('counts invocations by function, source and outcome: status class, error code, abandoned', async () => {
    const registry = new Registry();
    const metrics = new InvocationMetrics(registry);
    for (let i = 0; i < 3; i++) metrics.record(ended());
    metrics.record(ended({ status: 201 }));
    metrics.record(ended({ status: 404 }));
    metrics.record(ended({ status: 503, source: 'async' }));
    metrics.record(ended({ status: 302, source: 'trigger' }));
    metrics.record(ended({ outcome: 'error', status: undefined, error: { code: 'FUNCTION_TIMEOUT', retryable: true } }));
    metrics.record(ended({ outcome: 'error', status: undefined, error: { code: 'FUNCTION_TIMEOUT', retryable: true } }));
    metrics.record(ended({ outcome: 'error', status: undefined, error: { code: 'FUNCTION_OVERLOADED', retryable: true }, source: 'async' }));
    metrics.record(ended({ outcome: 'abandoned', status: undefined }));
    metrics.record(ended({ function: 'other' }));

    const samples = await scrape(registry);
    const counts = samplesOf(samples, 'nimbus_invocations_total').map((s) => ({ ...s.labels, value: s.value }));
    assert.deepEqual(
      new Set(counts.map((c) => JSON.stringify(c))),
      new Set(
        [
          { function: 'hello', source: 'http', outcome: '2xx', value: 4 },
          { function: 'hello', source: 'http', outcome: '4xx', value: 1 },
          { function: 'hello', source: 'http', outcome: 'error', code: 'FUNCTION_TIMEOUT', value: 2 },
          { function: 'hello', source: 'http', outcome: 'abandoned', value: 1 },
          { function: 'hello', source: 'async', outcome: '5xx', value: 1 },
          { function: 'hello', source: 'async', outcome: 'error', code: 'FUNCTION_OVERLOADED', value: 1 },
          { function: 'hello', source: 'trigger', outcome: '3xx', value: 1 },
          { function: 'other', source: 'http', outcome: '2xx', value: 1 },
        ].map((c) => JSON.stringify(c)),
      ),
    );
  });

  test('the duration histogram: cumulative buckets in seconds, sum and count per function', async () => {
    const registry = new Registry();
    const metrics = new InvocationMetrics(registry);
    // 0.5 ms, exactly 1 ms (le is inclusive), 7 ms, 2 s, 2 hours (above every bound).
    for (const totalMs of [0.5, 1, 7, 2000, 7_200_000]) metrics.record(ended({ timings: { queueMs: 0, startMs: 0, handlerMs: totalMs, totalMs } }));
    const samples = await scrape(registry);
    const bucket = (le: string) => valueOf(samples, 'nimbus_invocation_duration_seconds_bucket', { function: 'hello', le });
    assert.equal(bucket('0.001'), 2);
    assert.equal(bucket('0.005'), 2);
    assert.equal(bucket('0.01'), 3);
    assert.equal(bucket('1'), 3);
    assert.equal(bucket('2.5'), 4);
    assert.equal(bucket('3600'), 4);
    assert.equal(bucket('+Inf'), 5);
    assert.equal(samplesOf(samples, 'nimbus_invocation_duration_seconds_bucket').length, 19);
    assert.equal(valueOf(samples, 'nimbus_invocation_duration_seconds_count', { function: 'hello' }), 5);
    const sum = valueOf(samples, 'nimbus_invocation_duration_seconds_sum', { function: 'hello' }) ?? NaN;
    assert.ok(Math.abs(sum - (0.0005 + 0.001 + 0.007 + 2 + 7200)) < 1e-9, `sum ${sum}`);
  });

  test('cold starts: counted per function, each phase observed; warm invocations add no phase samples', async () => {
    const registry = new Registry();
    const metrics = new InvocationMetrics(registry);
    metrics.record(ended({ function: 'warm' }));
    metrics.record(ended({ coldStart: true, timings: { queueMs: 2, startMs: 40, handlerMs: 300, totalMs: 342 } }));
    metrics.record(ended({ coldStart: true, timings: { queueMs: 0, startMs: 80, handlerMs: 3, totalMs: 83 } }));
    metrics.record(ended());
    const samples = await scrape(registry);
    assert.equal(valueOf(samples, 'nimbus_cold_starts_total', { function: 'hello' }), 2);
    assert.equal(valueOf(samples, 'nimbus_cold_starts_total', { function: 'warm' }), 0);
    const phase = (name: string, phase: string, labels: Record<string, string> = {}) => valueOf(samples, `nimbus_cold_start_phase_seconds_${name}`, { function: 'hello', phase, ...labels });
    assert.equal(phase('count', 'queue'), 2);
    assert.equal(phase('count', 'start'), 2);
    assert.equal(phase('count', 'handler'), 2);
    assert.equal(phase('bucket', 'start', { le: '0.05' }), 1);
    assert.equal(phase('bucket', 'start', { le: '0.1' }), 2);
    assert.equal(phase('bucket', 'handler', { le: '0.005' }), 1);
    assert.ok(Math.abs((phase('sum', 'start') ?? NaN) - 0.12) < 1e-9);
    assert.equal(samplesOf(samples, 'nimbus_cold_start_phase_seconds_count', { function: 'warm' }).length, 0);
    assert.equal(valueOf(samples, 'nimbus_invocation_duration_seconds_count', { function: 'hello' }), 3);
  });

  test('request and response bytes add up per function', async () => {
    const registry = new Registry();
    const metrics = new InvocationMetrics(registry);
    metrics.record(ended({ bytesIn: 100, bytesOut: 2048 }));
    metrics.record(ended({ bytesIn: 0, bytesOut: 12, outcome: 'error', status: undefined, error: { code: 'FUNCTION_CRASHED', retryable: false } }));
    metrics.record(ended({ function: 'b', bytesIn: 7, bytesOut: 0 }));
    const samples = await scrape(registry);
    assert.equal(valueOf(samples, 'nimbus_request_bytes_total', { function: 'hello' }), 100);
    assert.equal(valueOf(samples, 'nimbus_response_bytes_total', { function: 'hello' }), 2060);
    assert.equal(valueOf(samples, 'nimbus_request_bytes_total', { function: 'b' }), 7);
    assert.equal(valueOf(samples, 'nimbus_response_bytes_total', { function: 'b' }), 0);
  });

  test('a forgotten (removed) function has no series left; one deployed again starts from zero', async () => {
    const registry = new Registry();
    const metrics = new InvocationMetrics(registry);
    metrics.record(ended({ coldStart: true, bytesIn: 5 }));
    metrics.record(ended({ function: 'kept' }));
    metrics.forget('hello');
    let samples = await scrape(registry);
    assert.deepEqual(
      samples.filter((s) => s.labels['function'] === 'hello'),
      [],
    );
    assert.equal(valueOf(samples, 'nimbus_invocations_total', { function: 'kept', source: 'http', outcome: '2xx' }), 1);
    metrics.record(ended());
    samples = await scrape(registry);
    assert.equal(valueOf(samples, 'nimbus_invocations_total', { function: 'hello', source: 'http', outcome: '2xx' }), 1);
    assert.equal(valueOf(samples, 'nimbus_cold_starts_total', { function: 'hello' }), 0);
  });

  test('the text format declares each family once, with its type', async () => {
    const registry = new Registry();
    new InvocationMetrics(registry).record(ended({ coldStart: true }));
    const text = await registry.metrics();
    for (const [name, type] of [
      ['nimbus_invocations_total', 'counter'],
      ['nimbus_invocation_duration_seconds', 'histogram'],
      ['nimbus_cold_starts_total', 'counter'],
      ['nimbus_cold_start_phase_seconds', 'histogram'],
      ['nimbus_request_bytes_total', 'counter'],
      ['nimbus_response_bytes_total', 'counter'],
    ]) {
      assert.equal(text.split(`# TYPE ${name} ${type}\n`).length, 2, `${name} is a ${type}, declared once`);
      assert.equal(text.split(`# HELP ${name} `).length, 2);
    }
  });
});
