/**
 * The gauges read at scrape time from fake sources, the process metrics, and the `/metrics`
 * handler on a real socket (port 0): text format, content type, the caller check, methods.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { NimbusError } from '../../src/core/errors.js';
import type { QueueDepth } from '../../src/queue/types.js';
import { PlatformMetrics } from '../../src/telemetry/metrics.js';
import { metricsRoute } from '../../src/telemetry/metrics-route.js';
import type { GaugeSources } from '../../src/telemetry/platform-gauges.js';
import { parseMetrics, samplesOf, valueOf } from './prom-text.js';

function fakeSources(names: string[]): GaugeSources & { calls: number } {
  const sources = {
    calls: 0,
    functionNames: () => {
      sources.calls++;
      return names;
    },
    status: (name: string) => (name === 'busy' ? { inflight: 3, queued: 5, desired: 2 } : { inflight: 0, queued: 0, desired: 0 }),
    instanceStates: (name: string) => (name === 'busy' ? ['ready', 'ready', 'starting', 'draining', 'stopped'] : []),
    backlog: (name: string): Promise<QueueDepth> => Promise.resolve(name === 'busy' ? { due: 4, delayed: 1, leased: 2 } : { due: 0, delayed: 0, leased: 0 }),
    deadLetters: (name: string) => Promise.resolve(name === 'busy' ? 6 : 0),
  };
  return sources;
}

describe('platform metrics', () => {
  test('gauges are read from the sources only when scraped, for every listed function, zeros included', async () => {
    const names = ['busy', 'idle'];
    const sources = fakeSources(names);
    const metrics = new PlatformMetrics(sources);
    assert.equal(sources.calls, 0);
    const samples = parseMetrics(await metrics.text());
    assert.ok(sources.calls > 0);
    assert.equal(valueOf(samples, 'nimbus_instances', { function: 'busy', state: 'ready' }), 2);
    assert.equal(valueOf(samples, 'nimbus_instances', { function: 'busy', state: 'starting' }), 1);
    assert.equal(valueOf(samples, 'nimbus_instances', { function: 'busy', state: 'draining' }), 1);
    assert.equal(samplesOf(samples, 'nimbus_instances', { state: 'stopped' }).length, 0);
    assert.equal(valueOf(samples, 'nimbus_instances', { function: 'idle', state: 'ready' }), 0);
    assert.equal(valueOf(samples, 'nimbus_instances_desired', { function: 'busy' }), 2);
    assert.equal(valueOf(samples, 'nimbus_inflight_invocations', { function: 'busy' }), 3);
    assert.equal(valueOf(samples, 'nimbus_admission_queue_depth', { function: 'busy' }), 5);
    assert.equal(valueOf(samples, 'nimbus_async_backlog', { function: 'busy', state: 'due' }), 4);
    assert.equal(valueOf(samples, 'nimbus_async_backlog', { function: 'busy', state: 'delayed' }), 1);
    assert.equal(valueOf(samples, 'nimbus_async_backlog', { function: 'busy', state: 'leased' }), 2);
    assert.equal(valueOf(samples, 'nimbus_async_backlog', { function: 'idle', state: 'due' }), 0);
    assert.equal(valueOf(samples, 'nimbus_dead_letters', { function: 'busy' }), 6);
    assert.equal(valueOf(samples, 'nimbus_dead_letters', { function: 'idle' }), 0);

    // A function no longer listed (removed) has no gauge series at the next scrape.
    names.splice(0, 1);
    const after = parseMetrics(await metrics.text());
    assert.deepEqual(after.filter((s) => s.labels['function'] === 'busy'), []);
  });

  test('the process metrics are there, prefixed nimbus_, beside the invocation metrics', async () => {
    const metrics = new PlatformMetrics(fakeSources([]));
    metrics.invocations.record({
      invocationId: 'x', function: 'f', version: 1, source: 'http', attempt: 1, startedAt: 0, outcome: 'response', status: 200, coldStart: false,
      timings: { queueMs: 0, startMs: 0, handlerMs: 1, totalMs: 1 }, bytesIn: 0, bytesOut: 0, method: 'GET', path: '/', memoryMb: 128,
    });
    const text = await metrics.text();
    const samples = parseMetrics(text);
    assert.ok((valueOf(samples, 'nimbus_process_cpu_seconds_total') ?? -1) >= 0);
    assert.ok((valueOf(samples, 'nimbus_process_resident_memory_bytes') ?? 0) > 0);
    assert.ok(samplesOf(samples, 'nimbus_nodejs_heap_size_used_bytes').length === 1);
    assert.equal(valueOf(samples, 'nimbus_invocations_total', { function: 'f', source: 'http', outcome: '2xx' }), 1);
    assert.ok(samples.every((s) => s.name.startsWith('nimbus_')), 'every metric is prefixed');
    // Two platforms in one process share the process metrics without clashing.
    assert.ok(parseMetrics(await new PlatformMetrics(fakeSources([])).text()).length > 0);
  });

  test('GET /metrics: text format, no-store; the caller is checked first; other methods 405', async () => {
    const metrics = new PlatformMetrics(fakeSources(['busy']));
    const authorize = (req: IncomingMessage) =>
      req.headers.authorization === 'Bearer good' ? Promise.resolve() : Promise.reject(new NimbusError('UNAUTHENTICATED', 'needs a token', { headers: { 'www-authenticate': 'Bearer realm="nimbus"' } }));
    const internal: unknown[] = [];
    const handle = metricsRoute({ metrics, authorize, onInternalError: (err) => internal.push(err) });
    const server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    try {
      const ok = await request(url, { headers: { authorization: 'Bearer good' } });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(ok.headers['cache-control'], 'no-store');
      assert.equal(valueOf(parseMetrics(await ok.body.text()), 'nimbus_admission_queue_depth', { function: 'busy' }), 5);

      const head = await request(url, { method: 'HEAD', headers: { authorization: 'Bearer good' } });
      assert.equal(head.statusCode, 200);
      assert.equal(await head.body.text(), '');

      const anonymous = await request(url);
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="nimbus"');
      assert.equal(((await anonymous.body.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');

      // Without a token the method is not even looked at.
      assert.equal((await request(url, { method: 'POST' })).statusCode, 401);
      const post = await request(url, { method: 'POST', headers: { authorization: 'Bearer good' } });
      assert.equal(post.statusCode, 405);
      assert.equal(post.headers['allow'], 'GET, HEAD');
      await post.body.dump();
    } finally {
      await new Promise((closed) => server.close(closed));
    }
    assert.deepEqual(internal, []);
  });
});
