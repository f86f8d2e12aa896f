/**
 * `GET /metrics` on a real platform: invocations counted by function, source and outcome, the
 * duration histogram and a cold start, the async backlog of a function with queued work, the
 * token check (401 without one, a read token is enough) and `metricsPublic`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { parseMetrics, type Sample, samplesOf, valueOf } from '../telemetry/prom-text.js';
import { FLAKY_FUNCTION, invokeAsync } from './async-fixtures.js';
import { api, deploy, invoke, startPlatform, type TestPlatform, waitFor } from './harness.js';

async function scrape(url: string, token: string | null): Promise<{ status: number; samples: Sample[]; text: string; type: string | undefined }> {
  const res = await request(`${url}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.body.text();
  return { status: res.statusCode, text, samples: res.statusCode === 200 ? parseMetrics(text) : [], type: res.headers['content-type'] as string | undefined };
}

describe('GET /metrics', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
    await deploy(platform.url, 'hello', FLAKY_FUNCTION);
  });
  after(() => platform.close());

  test('counts invocations per function and outcome, their durations, a cold start and the bytes', async () => {
    // The function answers 500 until the attempt reaches okAt; a sync invocation has attempt 0.
    for (let i = 0; i < 4; i++) assert.equal((await invoke(platform.url, 'hello/ok?okAt=0', { body: 'abcd' })).status, 200);
    assert.equal((await invoke(platform.url, 'hello/fail')).status, 500);

    const { status, samples, type } = await scrape(platform.url, platform.token);
    assert.equal(status, 200);
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(valueOf(samples, 'nimbus_invocations_total', { function: 'hello', source: 'http', outcome: '2xx' }), 4);
    assert.equal(valueOf(samples, 'nimbus_invocations_total', { function: 'hello', source: 'http', outcome: '5xx' }), 1);
    assert.equal(samplesOf(samples, 'nimbus_invocations_total', { function: 'hello' }).length, 2);
    assert.equal(valueOf(samples, 'nimbus_invocation_duration_seconds_count', { function: 'hello' }), 5);
    assert.equal(valueOf(samples, 'nimbus_invocation_duration_seconds_bucket', { function: 'hello', le: '+Inf' }), 5);
    assert.ok((valueOf(samples, 'nimbus_invocation_duration_seconds_sum', { function: 'hello' }) ?? 0) > 0);
    // One after the other: only the first waited for an instance.
    assert.equal(valueOf(samples, 'nimbus_cold_starts_total', { function: 'hello' }), 1);
    assert.equal(valueOf(samples, 'nimbus_cold_start_phase_seconds_count', { function: 'hello', phase: 'start' }), 1);
    assert.ok((valueOf(samples, 'nimbus_cold_start_phase_seconds_sum', { function: 'hello', phase: 'start' }) ?? 0) > 0);
    assert.equal(valueOf(samples, 'nimbus_request_bytes_total', { function: 'hello' }), 16);
    assert.ok((valueOf(samples, 'nimbus_response_bytes_total', { function: 'hello' }) ?? 0) > 0);
    // The gauges, read from the instance manager: the instance that served them is still there.
    assert.equal(valueOf(samples, 'nimbus_instances', { function: 'hello', state: 'ready' }), 1);
    assert.equal(valueOf(samples, 'nimbus_inflight_invocations', { function: 'hello' }), 0);
    assert.equal(valueOf(samples, 'nimbus_admission_queue_depth', { function: 'hello' }), 0);
    assert.equal(valueOf(samples, 'nimbus_dead_letters', { function: 'hello' }), 0);
    assert.ok((valueOf(samples, 'nimbus_process_resident_memory_bytes') ?? 0) > 0);
  });

  test('the async backlog of a function working through queued invocations one at a time', async () => {
    await deploy(platform.url, 'slow', FLAKY_FUNCTION, { asyncConcurrency: 1 });
    for (let i = 0; i < 4; i++) assert.equal((await invokeAsync(platform.url, 'slow/work?ms=1500')).status, 202);
    let last: Sample[] = [];
    await waitFor(
      async () => {
        last = (await scrape(platform.url, platform.token)).samples;
        return valueOf(last, 'nimbus_async_backlog', { function: 'slow', state: 'leased' }) === 1;
      },
      20_000,
      'one leased async invocation',
    );
    const due = valueOf(last, 'nimbus_async_backlog', { function: 'slow', state: 'due' }) ?? 0;
    assert.ok(due >= 2 && due <= 3, `due ${due}`);
    assert.equal(valueOf(last, 'nimbus_async_backlog', { function: 'hello', state: 'due' }), 0);
  });

  test('needs an API token: none is 401, an unknown one 401, a read token is enough', async () => {
    const anonymous = await scrape(platform.url, null);
    assert.equal(anonymous.status, 401);
    assert.equal((JSON.parse(anonymous.text) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
    const unknown = await scrape(platform.url, 'nmb_not_a_token');
    assert.equal(unknown.status, 401);
    assert.equal((JSON.parse(unknown.text) as { error: { code: string } }).error.code, 'INVALID_TOKEN');
    const read = (await api(platform.url, 'POST', '/api/v1/tokens', { name: 'prometheus', scope: 'read' })).json!.token as string;
    assert.equal((await scrape(platform.url, read)).status, 200);
  });

  test("a removed function's series are gone", async () => {
    await deploy(platform.url, 'gone', FLAKY_FUNCTION);
    assert.equal((await invoke(platform.url, 'gone?okAt=0')).status, 200);
    assert.equal(valueOf((await scrape(platform.url, platform.token)).samples, 'nimbus_invocations_total', { function: 'gone', source: 'http', outcome: '2xx' }), 1);
    const removed = await request(`${platform.url}/api/v1/functions/gone`, { method: 'DELETE', headers: { authorization: `Bearer ${platform.token}` } });
    assert.equal(removed.statusCode, 204);
    await removed.body.dump();
    const { samples } = await scrape(platform.url, platform.token);
    assert.deepEqual(samples.filter((s) => s.labels['function'] === 'gone'), []);
  });
});

describe('GET /metrics with metricsPublic (nimbus up --metrics-public)', () => {
  test('answers without a token', async () => {
    const open = await startPlatform({ metricsPublic: true, warmPoolSize: 0 });
    try {
      const { status, samples } = await scrape(open.url, null);
      assert.equal(status, 200);
      assert.ok(samplesOf(samples, 'nimbus_process_cpu_seconds_total').length === 1);
    } finally {
      await open.close();
    }
  });
});
