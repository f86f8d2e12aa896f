/**
 * The source check at create time, through a real platform: a trigger whose broker cannot be
 * reached (a closed port), whose JetStream stream or AMQP exchange does not exist, or whose Redis
 * key is not a stream is refused with 400 TRIGGER_SOURCE_UNREACHABLE and nothing is stored. A
 * trigger stored while its broker answered still lets the platform start when the broker is down
 * (it shows `failing` with the reason), and recovers when the broker is back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { listening, missingBinary, PrivateBroker, REDIS_SERVER } from '../triggers/private-broker.js';
import { redisClient } from '../triggers/redis-server.js';
import { api, startPlatform, type TestPlatform, waitFor } from './harness.js';
import { createTrigger, deployCloudEventEcho, getTrigger } from './trigger-fixtures.js';

/** Why a test needing the broker on `port` cannot run: fails under CI, skips visibly elsewhere. */
async function unlessListening(t: { skip(message: string): void }, port: number, what: string): Promise<boolean> {
  if (await listening(port)) return true;
  if (process.env.CI === 'true') assert.fail(`${what} is not listening on 127.0.0.1:${port} (CI starts it)`);
  t.skip(`${what} is not listening on 127.0.0.1:${port}`);
  return false;
}

describe('the source check before a trigger is stored', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
    await deployCloudEventEcho(platform.url, 'echo');
  });
  after(() => platform.close());

  /** POSTs the trigger, expects the refusal, and that nothing was stored. */
  async function assertRefused(type: string, settings: Record<string, unknown>, reason: RegExp, field = 'settings.url'): Promise<void> {
    const name = `refused-${randomUUID().slice(0, 8)}`;
    const res = await api(platform.url, 'POST', '/api/v1/triggers', { name, function: 'echo', type, settings });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.headers['x-nimbus-error'], 'TRIGGER_SOURCE_UNREACHABLE');
    assert.equal(res.json?.error.code, 'TRIGGER_SOURCE_UNREACHABLE');
    assert.equal(res.json?.error.details?.field, field);
    assert.match(res.json?.error.message, reason);
    assert.equal((await api(platform.url, 'GET', `/api/v1/triggers/${name}`)).status, 404, 'nothing stored');
    // PUT (create or replace) is checked the same way.
    const put = await api(platform.url, 'PUT', `/api/v1/triggers/${name}`, { function: 'echo', type, settings });
    assert.equal(put.json?.error.code, 'TRIGGER_SOURCE_UNREACHABLE');
    assert.equal((await api(platform.url, 'GET', `/api/v1/triggers/${name}`)).status, 404, 'nothing stored');
  }

  for (const [type, settings, reason] of [
    ['nats', { url: 'nats://127.0.0.1:1', subject: 'orders' }, /cannot connect to nats:\/\/127\.0\.0\.1:1/],
    ['nats', { url: 'nats://127.0.0.1:1', subject: 'orders', stream: 'ORDERS' }, /cannot connect to nats:\/\/127\.0\.0\.1:1/],
    ['mqtt', { url: 'mqtt://127.0.0.1:1', topic: 'sensors/#' }, /cannot connect to mqtt:\/\/127\.0\.0\.1:1/],
    ['amqp', { url: 'amqp://127.0.0.1:1', queue: 'jobs' }, /cannot connect to amqp:\/\/127\.0\.0\.1:1/],
    ['amqp', { url: 'amqp://127.0.0.1:1', exchange: 'events', routingKey: 'order.*' }, /cannot connect to amqp:\/\/127\.0\.0\.1:1/],
    ['redis', { url: 'redis://127.0.0.1:1', stream: 'events' }, /cannot connect to redis:\/\/127\.0\.0\.1:1/],
  ] as const) {
    test(`${type} ${JSON.stringify(settings)}: a closed port is refused with 400, nothing stored`, () => assertRefused(type, settings, reason));
  }

  test('a secret URL pointing at a closed port is refused, and the field is settings.urlSecret', async () => {
    const put = await api(platform.url, 'PUT', '/api/v1/secrets/CLOSED_NATS_URL', { value: 'nats://127.0.0.1:1' });
    assert.ok(put.status === 201 || put.status === 200, JSON.stringify(put.json));
    await assertRefused('nats', { urlSecret: 'CLOSED_NATS_URL', subject: 'a' }, /cannot connect to nats:\/\/127\.0\.0\.1:1/, 'settings.urlSecret');
  });

  test('refused credentials (the URL in a secret) are refused for amqp and redis', async (t) => {
    if (!(await unlessListening(t, 5672, 'RabbitMQ')) || !(await unlessListening(t, 6379, 'Redis'))) return;
    await api(platform.url, 'PUT', '/api/v1/secrets/WRONG_AMQP_URL', { value: 'amqp://guest:wrong@127.0.0.1:5672' });
    await assertRefused('amqp', { urlSecret: 'WRONG_AMQP_URL', queue: 'jobs' }, /ACCESS_REFUSED/, 'settings.urlSecret');
    await api(platform.url, 'PUT', '/api/v1/secrets/WRONG_REDIS_URL', { value: 'redis://nobody:wrong@127.0.0.1:6379' });
    const res = await api(platform.url, 'POST', '/api/v1/triggers', { name: 'wrong-redis', function: 'echo', type: 'redis', settings: { urlSecret: 'WRONG_REDIS_URL', stream: 'a' } });
    assert.equal(res.json?.error.code, 'TRIGGER_SOURCE_UNREACHABLE');
    assert.doesNotMatch(res.json?.error.message, /wrong/, 'the secret is never quoted');
  });

  test('JetStream: a stream that does not exist is refused', async (t) => {
    if (!(await unlessListening(t, 4222, 'NATS'))) return;
    await assertRefused('nats', { subject: 'x.>', stream: `MISSING${randomUUID().slice(0, 8)}` }, /the stream MISSING\w+ does not exist on nats:\/\/127\.0\.0\.1:4222: create it first/);
  });

  test('AMQP: an exchange that does not exist is refused; a queue that does not exist is fine (the source declares it)', async (t) => {
    if (!(await unlessListening(t, 5672, 'RabbitMQ'))) return;
    await assertRefused('amqp', { exchange: `missing-${randomUUID().slice(0, 8)}` }, /the exchange missing-\w+ does not exist on amqp:\/\/127\.0\.0\.1:5672/);
    const queue = `nimbus-check-${randomUUID().slice(0, 8)}`;
    await createTrigger(platform.url, 'declared-queue', { function: 'echo', type: 'amqp', settings: { queue }, state: 'paused' });
    await api(platform.url, 'DELETE', '/api/v1/triggers/declared-queue');
  });

  test('Redis: a key that holds something else than a stream is refused', async (t) => {
    if (!(await unlessListening(t, 6379, 'Redis'))) return;
    const key = `nimbus-check-${randomUUID().slice(0, 8)}`;
    const redis = redisClient();
    try {
      await redis.set(key, 'not a stream');
      await assertRefused('redis', { stream: key }, /holds a string, not a stream/);
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });

  test('pausing or resuming a trigger whose broker went away is not checked', async (t) => {
    if (!(await unlessListening(t, 4222, 'NATS'))) return;
    await api(platform.url, 'PUT', '/api/v1/secrets/MOVING_NATS_URL', { value: 'nats://127.0.0.1:4222' });
    await createTrigger(platform.url, 'moving', { function: 'echo', type: 'nats', settings: { urlSecret: 'MOVING_NATS_URL', subject: 'moving' } });
    // The secret's new value restarts the source without a check: the broker "went away".
    await api(platform.url, 'PUT', '/api/v1/secrets/MOVING_NATS_URL', { value: 'nats://127.0.0.1:1' });
    await waitFor(async () => (await getTrigger(platform.url, 'moving')).status === 'failing', 20_000, 'the trigger to be failing');
    assert.match((await getTrigger(platform.url, 'moving')).error ?? '', /cannot connect to nats:\/\/127\.0\.0\.1:1/);
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers/moving/pause')).status, 200);
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers/moving/resume')).status, 200);
    await api(platform.url, 'DELETE', '/api/v1/triggers/moving');
  });
});

describe('a stored trigger whose broker is down at start', () => {
  test('the platform starts, the trigger is failing with the reason, and active again once the broker is back', async (t) => {
    const absent = missingBinary(REDIS_SERVER);
    if (absent !== undefined) {
      if (process.env.CI === 'true') assert.fail(`${absent} (CI installs it)`);
      t.skip(absent);
      return;
    }
    const redis = await PrivateBroker.redis();
    const redisUrl = `redis://127.0.0.1:${redis.port}`;
    await redis.start();
    let platform = await startPlatform({ keepData: true });
    const { dataDir } = platform;
    try {
      await deployCloudEventEcho(platform.url, 'echo');
      await createTrigger(platform.url, 'private', { function: 'echo', type: 'redis', settings: { url: redisUrl, stream: 'events' } });
      await waitFor(async () => (await getTrigger(platform.url, 'private')).status === 'active', 20_000, 'the trigger to be active');
      await platform.close();
      await redis.kill();

      platform = await startPlatform({ dataDir, keepData: true });
      await waitFor(async () => (await getTrigger(platform.url, 'private')).status === 'failing', 20_000, 'the trigger to be failing');
      assert.match((await getTrigger(platform.url, 'private')).error ?? '', new RegExp(`redis://127\\.0\\.0\\.1:${redis.port}`));
      // The platform serves the rest meanwhile.
      assert.equal((await api(platform.url, 'GET', '/api/v1/functions/echo')).status, 200);

      await redis.start();
      await waitFor(async () => (await getTrigger(platform.url, 'private')).status === 'active', 30_000, 'the trigger to be active again');
    } finally {
      await platform.close();
      await redis.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
