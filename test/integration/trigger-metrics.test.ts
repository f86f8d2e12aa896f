/**
 * The trigger metrics on a real platform: `nimbus_trigger_events_total` counts events delivered,
 * duplicate (the same CloudEvent id again) and refused; `nimbus_trigger_status` follows pause and
 * a failing source; a removed trigger's series go. Fed through the CloudEvents ingress (`event`
 * triggers) and a `nats` trigger whose broker does not exist, so no broker is needed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { parseMetrics, type Sample, samplesOf, valueOf } from '../telemetry/prom-text.js';
import { api, waitFor, startPlatform, type TestPlatform } from './harness.js';
import { createTrigger, deployCloudEventEcho, receivedEvents } from './trigger-fixtures.js';

async function scrape(platform: TestPlatform): Promise<Sample[]> {
  const res = await request(`${platform.url}/metrics`, { headers: { authorization: `Bearer ${platform.token}` } });
  assert.equal(res.statusCode, 200);
  return parseMetrics(await res.body.text());
}

async function postEvent(platform: TestPlatform, id: string): Promise<void> {
  const res = await fetch(`${platform.url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.token}`, 'ce-specversion': '1.0', 'ce-id': id, 'ce-source': '/shop', 'ce-type': 'com.example.order', 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 202, await res.text());
}

const labels = { trigger: 'orders', function: 'echo', kind: 'event' };

describe('trigger metrics', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
    await deployCloudEventEcho(platform.url, 'echo');
  });
  after(() => platform.close());

  test('events by outcome and the status of each trigger; a removed trigger leaves no series', async () => {
    await createTrigger(platform.url, 'orders', { function: 'echo', type: 'event', settings: { eventType: 'com.example.order' } });
    let samples = await scrape(platform);
    assert.equal(valueOf(samples, 'nimbus_trigger_events_total', { ...labels, outcome: 'delivered' }), 0, 'every outcome is shown from the start');
    assert.equal(valueOf(samples, 'nimbus_trigger_status', { ...labels, status: 'active' }), 1);
    assert.equal(valueOf(samples, 'nimbus_trigger_status', { ...labels, status: 'paused' }), 0);

    await postEvent(platform, 'o-1');
    await postEvent(platform, 'o-2');
    await postEvent(platform, 'o-1');
    await receivedEvents(platform.url, 'echo', 2);
    samples = await scrape(platform);
    assert.equal(valueOf(samples, 'nimbus_trigger_events_total', { ...labels, outcome: 'delivered' }), 2);
    assert.equal(valueOf(samples, 'nimbus_trigger_events_total', { ...labels, outcome: 'duplicate' }), 1);
    assert.equal(valueOf(samples, 'nimbus_trigger_events_total', { ...labels, outcome: 'refused' }), 0);

    // Paused and resumed: the source restarts, the counts go on.
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers/orders/pause')).status, 200);
    await waitFor(async () => valueOf(await scrape(platform), 'nimbus_trigger_status', { ...labels, status: 'paused' }) === 1, 5_000, 'status paused');
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers/orders/resume')).status, 200);
    await waitFor(async () => valueOf(await scrape(platform), 'nimbus_trigger_status', { ...labels, status: 'active' }) === 1, 5_000, 'status active');
    await postEvent(platform, 'o-3');
    await waitFor(async () => valueOf(await scrape(platform), 'nimbus_trigger_events_total', { ...labels, outcome: 'delivered' }) === 3, 5_000, '3 delivered');

    // A folder that is not there (a broker that cannot be reached is refused at create): the source reports failing.
    await createTrigger(platform.url, 'nowhere', { function: 'echo', type: 'file', settings: { path: '/nonexistent/nimbus-trigger-metrics' } });
    await waitFor(async () => valueOf(await scrape(platform), 'nimbus_trigger_status', { trigger: 'nowhere', function: 'echo', kind: 'file', status: 'failing' }) === 1, 20_000, 'status failing');

    assert.equal((await api(platform.url, 'DELETE', '/api/v1/triggers/orders')).status, 204);
    await waitFor(async () => samplesOf(await scrape(platform), 'nimbus_trigger_events_total', { trigger: 'orders' }).length === 0, 5_000, 'the removed trigger\'s series gone');
    samples = await scrape(platform);
    assert.equal(samplesOf(samples, 'nimbus_trigger_status', { trigger: 'orders' }).length, 0);
    assert.equal(samplesOf(samples, 'nimbus_trigger_status', { trigger: 'nowhere' }).length, 4, 'one per status');
  });
});
