/**
 * Tracing off costs nothing: without an OTLP endpoint the platform gets the one disabled
 * instance (the SDK is not loaded), and the invoker never asks it for a span, leaving the
 * caller's trace headers as they came. With an endpoint: the OpenTelemetry implementation.
 * The endpoint option's URL rules.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { compileServerOptions, ServerOptionsError, tracesUrl } from '../../src/config/server-options.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { BufferedResponse } from '../../src/gateway/buffered-response.js';
import { FunctionCache } from '../../src/gateway/function-cache.js';
import { InvocationEvents } from '../../src/gateway/invocation-events.js';
import { Invoker } from '../../src/gateway/invoker.js';
import { InstanceManager } from '../../src/scaling/instance-manager.js';
import type { FunctionRecord } from '../../src/store/types.js';
import { createTracing } from '../../src/telemetry/create-tracing.js';
import { OtelTracing, SHUTDOWN_EXPORT_MS } from '../../src/telemetry/otel-tracing.js';
import { DISABLED_TRACING } from '../../src/telemetry/tracing.js';
import { InProcessProvider } from '../providers/in-process-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const RECORD: FunctionRecord = {
  version: 1,
  createdAt: 0,
  updatedAt: 0,
  build: { buildId: 'echo-1', entry: 'index.js' },
  spec: { name: 'echo', runtime: 'node', handler: 'index.js', env: {}, timeoutMs: 5000, memoryMb: 128, idleTimeoutMs: 60_000, concurrency: 4, maxInstances: 1, minInstances: 0, packageSha256: 'x' },
};

describe('tracing off', () => {
  test('without an endpoint the platform gets the disabled instance, which must never be asked for a span', async () => {
    const tracing = await createTracing(compileServerOptions({}));
    assert.equal(tracing, DISABLED_TRACING);
    assert.equal(tracing.enabled, false);
    // Anything that skipped the enabled check would fail loudly, not trace quietly.
    assert.throws(() => tracing.begin(RECORD, { method: 'GET', path: '/', headers: {}, body: null }, { source: 'http', invocationId: 'x' }, 0), /tracing is off/);
    assert.throws(() => tracing.beginAccept('echo', 'GET', {}, 0), /tracing is off/);
  });

  test('the invoker with tracing off leaves the trace headers as the caller sent them', async () => {
    const provider = new InProcessProvider({
      handlerFor: () => (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ traceparent: req.headers['traceparent'] ?? null, tracestate: req.headers['tracestate'] ?? null }));
      },
    });
    const manager = new InstanceManager({ provider, clock: systemClock, scaleIntervalMs: 1000, maxQueue: 10, maxQueueWaitMs: 10_000 });
    stops.push(() => manager.shutdown());
    const cache = new FunctionCache({ getFunction: async () => RECORD } as never);
    // No tracing given: the default is the disabled instance, whose begin throws.
    const invoker = new Invoker({ functions: cache, admission: manager, clock: systemClock, events: new InvocationEvents(() => undefined) });
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    for (const headers of [{ traceparent: caller }, {}] as Record<string, string>[]) {
      const sink = new BufferedResponse();
      const { error } = await invoker.invoke(RECORD, { method: 'GET', path: '/', headers: { ...headers }, body: null }, sink, { source: 'http', invocationId: randomUUID() });
      assert.equal(error, undefined);
      assert.deepEqual(JSON.parse(sink.body.toString()), { traceparent: headers['traceparent'] ?? null, tracestate: null });
    }
  });
});

describe('tracing on', () => {
  test('an endpoint gives the OpenTelemetry implementation', async () => {
    const tracing = await createTracing(compileServerOptions({ otlpEndpoint: 'http://127.0.0.1:1' }));
    assert.ok(tracing instanceof OtelTracing);
    assert.equal(tracing.enabled, true);
    await tracing.shutdown();
  });

  test('shutdown waits a bounded time for a collector that does not take the spans', async () => {
    const clock = new ManualClock(1_000);
    // Nothing listens on the discard port: the exporter would retry for its whole timeout.
    const tracing = new OtelTracing({ endpoint: 'http://127.0.0.1:9/v1/traces', serviceName: 'nimbus', clock });
    const trace = tracing.begin(RECORD, { method: 'GET', path: '/', headers: {}, body: null }, { source: 'http', invocationId: 'inv-1' }, clock.now());
    trace.end({
      invocationId: 'inv-1', function: 'echo', version: 1, source: 'http', attempt: 1, startedAt: 1_000, outcome: 'response', status: 200, coldStart: false,
      timings: { queueMs: 0, startMs: 0, handlerMs: 1, totalMs: 1 }, bytesIn: 0, bytesOut: 0, method: 'GET', path: '/', memoryMb: 256,
    });
    const stopping = tracing.shutdown();
    clock.advance(SHUTDOWN_EXPORT_MS);
    await assert.rejects(stopping, new RegExp(`did not take the last spans within ${SHUTDOWN_EXPORT_MS} ms`));
  });
});

describe('the otlpEndpoint option', () => {
  test('a base URL gets /v1/traces, a traces URL is kept', () => {
    assert.equal(tracesUrl('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/traces');
    assert.equal(tracesUrl('http://collector:4318/otlp/'), 'http://collector:4318/otlp/v1/traces');
    assert.equal(tracesUrl('https://collector/v1/traces'), 'https://collector/v1/traces');
    assert.equal(compileServerOptions({ otlpEndpoint: 'http://127.0.0.1:4318' }).tracesEndpoint, 'http://127.0.0.1:4318/v1/traces');
    assert.equal(compileServerOptions({}).tracesEndpoint, undefined);
  });

  test('anything but an http(s) URL is refused, naming the key', () => {
    for (const value of ['ftp://collector', 'collector:4318', '']) {
      assert.throws(
        () => compileServerOptions({ otlpEndpoint: value }),
        (err: unknown) => err instanceof ServerOptionsError && err.key === 'otlpEndpoint' && /http\(s\) URL/.test(err.message),
        value,
      );
    }
  });
});
