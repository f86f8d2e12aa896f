import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { TriggerView } from '../../src/api/wire.js';
import { join } from 'node:path';
import { api, deploy, EXAMPLES, startPlatform, type TestPlatform, waitFor } from './harness.js';
import { responseBody } from './async-fixtures.js';
import { createTrigger, deployCloudEventEcho, getTrigger, invocationsOf, receivedEvents } from './trigger-fixtures.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('cron triggers, end to end', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform({ keepData: true });
    await deployCloudEventEcho(platform.url, 'echo');
  });
  after(async () => {
    await platform.close();
    await rm(platform.dataDir, { recursive: true, force: true });
  });

  test('bad input is refused with a catalogue code and nothing is stored', async () => {
    const cases: Array<[unknown, number, string, string]> = [
      [{ name: 'tick', function: 'nope', type: 'cron', settings: { schedule: '* * * * *' } }, 404, 'FUNCTION_NOT_FOUND', 'function'],
      [{ name: 'tick', function: 'echo', type: 'cron', settings: { schedule: 'every minute' } }, 400, 'INVALID_TRIGGER', 'settings.schedule'],
      [{ name: 'tick', function: 'echo', type: 'cron', settings: { schedule: '0 0 0 1 1 * 2030' } }, 400, 'INVALID_TRIGGER', 'settings.schedule'],
      [{ name: 'tick', function: 'echo', type: 'cron', settings: { schedule: '* * * * *', timezone: 'Mars/Olympus' } }, 400, 'INVALID_TRIGGER', 'settings.timezone'],
      [{ name: 'tick', function: 'echo', type: 'cron', settings: { schedule: '* * * * *', subject: 'x' } }, 400, 'INVALID_TRIGGER', 'settings.subject'],
      [{ name: 'tick', function: 'echo', type: 'carrier-pigeon', settings: {} }, 400, 'INVALID_TRIGGER', 'type'],
      [{ name: 'Tick!', function: 'echo', type: 'cron', settings: { schedule: '* * * * *' } }, 400, 'INVALID_TRIGGER', 'name'],
      [{ name: 'tick', function: 'echo', type: 'cron', settings: { schedule: '* * * * *' }, extra: 1 }, 400, 'INVALID_TRIGGER', 'extra'],
    ];
    for (const [body, status, code, field] of cases) {
      const res = await api(platform.url, 'POST', '/api/v1/triggers', body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(res.headers['x-nimbus-error'], code, JSON.stringify(res.json));
      assert.equal(res.json?.error.details?.field, field, JSON.stringify(res.json));
    }
    assert.equal((await api(platform.url, 'PUT', '/api/v1/triggers/tick', { function: 'echo', type: 'cron', settings: { schedule: '99 * * * *' } })).status, 400);
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/tick')).json?.error.code, 'TRIGGER_NOT_FOUND');
    assert.deepEqual((await api(platform.url, 'GET', '/api/v1/triggers')).json, { triggers: [] });
  });

  test('every second: the function receives CloudEvents (binary mode) with the data as its body; records name the trigger', async () => {
    const created = await createTrigger(platform.url, 'every-second', { function: 'echo', type: 'cron', settings: { schedule: '* * * * * *', data: { hello: 'world' } } });
    assert.equal(created.status, 'starting', 'until its source says it consumes');
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers', { name: 'every-second', function: 'echo', type: 'cron', settings: { schedule: '* * * * *' } })).json?.error.code, 'TRIGGER_EXISTS');
    const events = await receivedEvents(platform.url, 'echo', 2);
    for (const event of events) {
      assert.equal(event.method, 'POST');
      assert.equal(event.path, '/');
      assert.equal(event.headers['ce-specversion'], '1.0');
      assert.equal(event.headers['ce-type'], 'dev.nimbus.cron.tick');
      assert.equal(event.headers['ce-source'], 'urn:nimbus:trigger:every-second');
      assert.equal(event.headers['ce-subject'], '*%20*%20*%20*%20*%20*', 'percent-encoded as the CloudEvents HTTP binding says');
      assert.match(event.headers['ce-time'] ?? '', ISO);
      assert.equal(event.headers['ce-id'], `every-second@${event.headers['ce-time']}`);
      assert.equal(event.headers['content-type'], 'application/json');
      assert.equal(event.headers['x-nimbus-trigger'], 'every-second');
      assert.deepEqual(JSON.parse(event.body.toString()), { hello: 'world' });
      assert.equal(event.invocation.trigger, 'every-second');
    }
    assert.notEqual(events[0]?.headers['ce-id'], events[1]?.headers['ce-id']);
    const listed = (await api(platform.url, 'GET', '/api/v1/triggers?function=echo')).json as { triggers: TriggerView[] };
    assert.deepEqual(listed.triggers.map((t) => [t.name, t.status, t.error]), [['every-second', 'active', null]]);
  });

  test('pause stops the ticks, resume starts them again', async () => {
    const paused = (await api(platform.url, 'POST', '/api/v1/triggers/every-second/pause')).json as TriggerView;
    assert.deepEqual([paused.state, paused.status], ['paused', 'paused']);
    const before = (await invocationsOf(platform.url, 'echo')).length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal((await invocationsOf(platform.url, 'echo')).length, before, 'no tick while paused');
    const resumed = (await api(platform.url, 'POST', '/api/v1/triggers/every-second/resume')).json as TriggerView;
    assert.equal(resumed.state, 'active');
    assert.ok(['starting', 'active'].includes(resumed.status), resumed.status);
    await waitFor(async () => (await getTrigger(platform.url, 'every-second')).status === 'active', 10_000, 'the resumed trigger active');
    await waitFor(async () => (await invocationsOf(platform.url, 'echo')).length >= before + 2, 20_000, 'ticks after resume');
  });

  test('a restart of the platform fires no tick twice (catch-up included)', async () => {
    const patched = await api(platform.url, 'PATCH', '/api/v1/triggers/every-second', { settings: { schedule: '* * * * * *', data: { hello: 'again' }, catchUp: true } });
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    await waitFor(async () => (await receivedEvents(platform.url, 'echo', 1)).some((e) => e.body.toString().includes('again')), 20_000, 'a tick of the patched trigger');
    const { dataDir } = platform;
    await platform.server.close();
    platform = await startPlatform({ dataDir, keepData: true });
    const count = (await invocationsOf(platform.url, 'echo')).length;
    await waitFor(async () => (await invocationsOf(platform.url, 'echo')).length >= count + 2, 20_000, 'ticks after the restart');
    const ids = (await receivedEvents(platform.url, 'echo', count + 2)).map((e) => e.headers['ce-id']);
    assert.equal(new Set(ids).size, ids.length, `no tick delivered twice: ${ids.join(' ')}`);
    assert.equal((await getTrigger(platform.url, 'every-second')).status, 'active');
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/triggers/every-second')).status, 204);
  });

  test("a failing function's ticks are retried and dead-lettered per its async policy", async () => {
    await deployCloudEventEcho(platform.url, 'broken', { env: { FAIL: '1' }, maxRetries: 1, retryDelay: '100ms' });
    await createTrigger(platform.url, 'doomed', { function: 'broken', type: 'cron', settings: { schedule: '* * * * * *' } });
    const [dead] = await receivedEvents(platform.url, 'broken', 1, { settledAs: 'dead' });
    assert.equal(dead?.invocation.attempts, 2);
    assert.equal(dead?.invocation.trigger, 'doomed');
    assert.equal(dead?.headers['ce-type'], 'dev.nimbus.cron.tick');
  });

  test("removing a function removes its triggers; its ticks stop", async () => {
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/functions/broken')).status, 204);
    assert.equal((await api(platform.url, 'GET', '/api/v1/triggers/doomed')).status, 404);
    await deployCloudEventEcho(platform.url, 'broken');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(await invocationsOf(platform.url, 'broken'), [], 'the old trigger does not come back with a new function of the same name');
  });

  test('examples/cron-tick reads the tick it is given', async () => {
    await deploy(platform.url, 'cron-tick', join(EXAMPLES, 'cron-tick'), { network: 'none' });
    await createTrigger(platform.url, 'cron-tick', { function: 'cron-tick', type: 'cron', settings: { schedule: '* * * * * *', data: { report: 'daily' } } });
    let answer: { received?: { type: string; trigger: string; time: string; id: string }; data?: unknown } = {};
    await waitFor(async () => {
      const done = (await invocationsOf(platform.url, 'cron-tick')).find((r) => r.status === 'succeeded');
      if (done) answer = JSON.parse(responseBody(done).toString()) as typeof answer;
      return done !== undefined;
    }, 20_000, 'a tick of examples/cron-tick');
    assert.equal(answer.received?.type, 'dev.nimbus.cron.tick');
    assert.equal(answer.received?.trigger, 'cron-tick');
    assert.equal(answer.received?.id, `cron-tick@${answer.received?.time}`);
    assert.deepEqual(answer.data, { report: 'daily' });
  });
});
