/**
 * AMQP and Redis Streams triggers end to end through a real platform and the machine's brokers: a
 * message reaches the function as a CloudEvent (binary mode) with its exact bytes, from an AMQP
 * queue, an AMQP exchange through a routing key, and a Redis stream; a trigger whose broker goes
 * away is `failing` with the reason and recovers; pause holds delivery and resume brings what
 * arrived meanwhile. Then, for every at-least-once kind (JetStream, MQTT QoS 1, AMQP, Redis), a
 * failing function's events are retried and dead-lettered by its async policy.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { RabbitClient } from '../triggers/amqp-broker.js';
import { listening } from '../triggers/private-broker.js';
import { redisClient } from '../triggers/redis-server.js';
import { api, startPlatform, type TestPlatform, waitFor } from './harness.js';
import { createTrigger, deployCloudEventEcho, getTrigger, invocationsOf, receivedEvents } from './trigger-fixtures.js';

const BROKERS = [
  ['NATS', 4222],
  ['Mosquitto', 1883],
  ['RabbitMQ', 5672],
  ['Redis', 6379],
] as const;

describe('amqp and redis triggers, end to end; dead letters for every broker kind', async () => {
  const missing = (await Promise.all(BROKERS.map(async ([name, port]) => ((await listening(port)) ? undefined : `${name} on 127.0.0.1:${port}`)))).filter(Boolean);
  if (missing.length > 0 && process.env.CI === 'true') {
    test('the brokers are reachable (CI starts them)', () => assert.fail(`not listening: ${missing.join(', ')}`));
    return;
  }
  const skip = missing.length > 0 ? `not listening: ${missing.join(', ')}` : false;
  const unique = randomUUID().slice(0, 8);
  const payload = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0x80]);
  let platform: TestPlatform;
  const rabbit = new RabbitClient();
  const redis = redisClient();
  /** Queues and stream keys made on the shared brokers, removed at the end. */
  const queues: string[] = [];
  const keys: string[] = [];
  before(async () => {
    if (skip) return;
    platform = await startPlatform();
  });
  after(async () => {
    if (skip) return;
    await platform.close();
    for (const queue of queues) await rabbit.admin((channel) => channel.deleteQueue(queue)).catch(() => undefined);
    if (keys.length > 0) await redis.del(...keys);
    await rabbit.close();
    redis.disconnect();
  });

  const whenActive = (name: string) => waitFor(async () => (await getTrigger(platform.url, name)).status === 'active', 20_000, `the trigger ${name} to be active`);
  /**
   * Waits until the trigger's source consumes, as the broker sees it: a new trigger shows `active`
   * at once (the status is stored with it), before its source has declared its queue or made its
   * consumer group, and a message sent before then would be routed nowhere or skipped (`$`).
   */
  const whenConsuming = (type: 'amqp' | 'redis', target: string, group?: string) =>
    waitFor(
      async () => {
        if (type === 'amqp') return (await rabbit.admin((channel) => channel.checkQueue(target)).catch(() => ({ consumerCount: 0 }))).consumerCount > 0;
        const groups = (await redis.xinfo('GROUPS', target).catch(() => [])) as unknown[][];
        return groups.some((fields) => fields[1] === group);
      },
      20_000,
      `a consumer of ${target}`,
    );

  test('AMQP queue: the message arrives with its bytes, the queue as subject and the amqp extensions', { skip }, async () => {
    const queue = `e2e-jobs-${unique}`;
    queues.push(queue);
    await deployCloudEventEcho(platform.url, 'queue-echo');
    await createTrigger(platform.url, 'jobs', { function: 'queue-echo', type: 'amqp', settings: { queue } });
    await whenConsuming('amqp', queue);
    await rabbit.sendToQueue(queue, payload, { messageId: 'job-1', contentType: 'application/octet-stream', correlationId: 'c-7', headers: { tenant: 'acme' } });
    const [event] = await receivedEvents(platform.url, 'queue-echo', 1);
    assert.deepEqual(event?.body, payload);
    assert.equal(event?.headers['ce-specversion'], '1.0');
    assert.equal(event?.headers['ce-type'], 'dev.nimbus.amqp.message');
    assert.equal(event?.headers['ce-id'], 'job-1');
    // Binary mode percent-encodes `%` in a ce- header (CloudEvents HTTP binding, 3.1.3.2).
    assert.equal(decodeURIComponent(event?.headers['ce-source'] ?? ''), `amqp://127.0.0.1:5672/%2F/${queue}`);
    assert.equal(event?.headers['ce-subject'], queue);
    assert.equal(event?.headers['content-type'], 'application/octet-stream');
    assert.equal(event?.headers['ce-amqpcorrelationid'], 'c-7');
    assert.equal(event?.headers['ce-amqpredelivered'], 'false');
    assert.equal(event?.headers['ce-tenant'], 'acme');
    assert.equal(event?.headers['x-nimbus-trigger'], 'jobs');
    assert.equal(event?.invocation.trigger, 'jobs');
  });

  test('AMQP exchange + routing key: only what the binding routes arrives, with the routing key as subject', { skip }, async () => {
    const exchange = `e2e-events-${unique}`;
    await rabbit.admin((channel) => channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false }));
    queues.push('nimbus.trigger.orders');
    try {
      await deployCloudEventEcho(platform.url, 'exchange-echo');
      await createTrigger(platform.url, 'orders', { function: 'exchange-echo', type: 'amqp', settings: { exchange, routingKey: 'order.*' } });
      await whenConsuming('amqp', 'nimbus.trigger.orders');
      await rabbit.publish(exchange, 'invoice.paid', Buffer.from('not routed'), { messageId: 'skip-1' });
      await rabbit.publish(exchange, 'order.created', payload, { messageId: 'order-1' });
      const [event] = await receivedEvents(platform.url, 'exchange-echo', 1);
      assert.deepEqual(event?.body, payload);
      assert.equal(event?.headers['ce-type'], 'dev.nimbus.amqp.message');
      assert.equal(event?.headers['ce-id'], 'order-1');
      assert.equal(event?.headers['ce-subject'], 'order.created');
      assert.equal(decodeURIComponent(event?.headers['ce-source'] ?? ''), `amqp://127.0.0.1:5672/%2F/${exchange}`);
      assert.equal(event?.headers['ce-amqpexchange'], exchange);
      assert.equal(event?.headers['ce-amqproutingkey'], 'order.created');
      // The unrouted message never ran the function.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await invocationsOf(platform.url, 'exchange-echo')).length, 1);
    } finally {
      await rabbit.admin((channel) => channel.deleteExchange(exchange)).catch(() => undefined);
    }
  });

  test('Redis stream: the entry arrives with its data bytes, id stream:entry-id, the other fields as extensions', { skip }, async () => {
    const stream = `e2e-stream-${unique}`;
    keys.push(stream);
    await deployCloudEventEcho(platform.url, 'stream-echo');
    await createTrigger(platform.url, 'entries', { function: 'stream-echo', type: 'redis', settings: { stream } });
    await whenConsuming('redis', stream, 'nimbus.trigger.entries');
    const id = (await redis.xadd(stream, '*', 'data', payload, 'content-type', 'application/octet-stream', 'tenant', 'acme')) as string;
    const [event] = await receivedEvents(platform.url, 'stream-echo', 1);
    assert.deepEqual(event?.body, payload);
    assert.equal(event?.headers['ce-type'], 'dev.nimbus.redis.entry');
    assert.equal(event?.headers['ce-id'], `${stream}:${id}`);
    assert.equal(event?.headers['ce-subject'], stream);
    assert.equal(event?.headers['ce-source'], `redis://127.0.0.1:6379/0/${stream}`);
    assert.equal(event?.headers['ce-time'], new Date(Number(id.split('-')[0])).toISOString());
    assert.equal(event?.headers['content-type'], 'application/octet-stream');
    assert.equal(event?.headers['ce-redisid'], id);
    assert.equal(event?.headers['ce-tenant'], 'acme');
  });

  for (const type of ['amqp', 'redis'] as const) {
    test(`${type}: a broker that goes away makes the trigger failing with the reason; it recovers when it is back`, { skip }, async () => {
      const secret = `MOVING_${type.toUpperCase()}_URL`;
      const good = type === 'amqp' ? 'amqp://127.0.0.1:5672' : 'redis://127.0.0.1:6379';
      const target = `e2e-moving-${type}-${unique}`;
      const settings = type === 'amqp' ? { urlSecret: secret, queue: target } : { urlSecret: secret, stream: target };
      (type === 'amqp' ? queues : keys).push(target);
      await api(platform.url, 'PUT', `/api/v1/secrets/${secret}`, { value: good });
      await deployCloudEventEcho(platform.url, `moving-${type}`);
      await createTrigger(platform.url, `moving-${type}`, { function: `moving-${type}`, type, settings });
      await whenConsuming(type, target, `nimbus.trigger.moving-${type}`);
      // Its secret's new value restarts the source at a closed port (a stored trigger is not checked).
      await api(platform.url, 'PUT', `/api/v1/secrets/${secret}`, { value: `${type}://127.0.0.1:1` });
      await waitFor(async () => (await getTrigger(platform.url, `moving-${type}`)).status === 'failing', 20_000, 'the trigger to be failing');
      assert.match((await getTrigger(platform.url, `moving-${type}`)).error ?? '', new RegExp(`${type}://127\\.0\\.0\\.1:1`));
      await api(platform.url, 'PUT', `/api/v1/secrets/${secret}`, { value: good });
      await whenActive(`moving-${type}`);
    });
  }

  for (const type of ['amqp', 'redis'] as const) {
    test(`${type}: pause holds delivery; resume brings what arrived meanwhile`, { skip }, async () => {
      const name = `held-${type}`;
      const target = `e2e-held-${type}-${unique}`;
      await deployCloudEventEcho(platform.url, name);
      if (type === 'amqp') queues.push(target);
      else keys.push(target);
      await createTrigger(platform.url, name, { function: name, type, settings: type === 'amqp' ? { queue: target } : { stream: target } });
      await whenConsuming(type, target, `nimbus.trigger.${name}`);
      assert.equal((await api(platform.url, 'POST', `/api/v1/triggers/${name}/pause`)).json?.status, 'paused');
      for (let i = 0; i < 3; i++) {
        if (type === 'amqp') await rabbit.sendToQueue(target, Buffer.from(`held-${i}`), { messageId: `held-${i}` });
        else await redis.xadd(target, '*', 'data', `held-${i}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(await invocationsOf(platform.url, name), [], 'nothing delivered while paused');
      await api(platform.url, 'POST', `/api/v1/triggers/${name}/resume`);
      const events = await receivedEvents(platform.url, name, 3);
      assert.deepEqual(events.map((e) => e.body.toString()).sort(), ['held-0', 'held-1', 'held-2']);
    });
  }

  /** Each broker kind: the trigger's settings, how to publish one message, and clean-up. */
  const kinds = [
    {
      type: 'nats',
      label: 'JetStream',
      async setUp() {
        const stream = `DEAD${unique}`;
        const nc = await connect({ servers: '127.0.0.1:4222' });
        const manager = await jetstreamManager(nc);
        await manager.streams.add({ name: stream, subjects: [`${stream}.>`] });
        return {
          settings: { subject: `${stream}.in`, stream },
          // The stream keeps the message until the durable consumer reads it.
          consuming: () => whenActive('dead-nats'),
          publish: async () => void (await jetstream(nc).publish(`${stream}.in`, payload)),
          tearDown: async () => (await manager.streams.delete(stream), await nc.close()),
        };
      },
    },
    {
      type: 'mqtt',
      label: 'MQTT QoS 1',
      async setUp(trigger: string) {
        const topic = `dead/${unique}`;
        // The trigger's persistent session, subscribed before the trigger exists (whenConsuming's reason).
        const session = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-${trigger}`, clean: false, properties: { sessionExpiryInterval: 600 } });
        await session.subscribeAsync(topic, { qos: 1 });
        await session.endAsync();
        return {
          settings: { topic },
          consuming: () => whenActive(trigger),
          publish: async () => {
            const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
            await client.publishAsync(topic, payload, { qos: 1 });
            await client.endAsync();
          },
          // The persistent session stays on the broker: remove it.
          tearDown: async () => (await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-${trigger}`, clean: true })).endAsync(),
        };
      },
    },
    {
      type: 'amqp',
      label: 'AMQP',
      async setUp() {
        const queue = `e2e-dead-${unique}`;
        queues.push(queue);
        return { settings: { queue }, consuming: () => whenConsuming('amqp', queue), publish: () => rabbit.sendToQueue(queue, payload), tearDown: async () => undefined };
      },
    },
    {
      type: 'redis',
      label: 'Redis Streams',
      async setUp() {
        const stream = `e2e-dead-${unique}`;
        keys.push(stream);
        return {
          settings: { stream },
          consuming: () => whenConsuming('redis', stream, 'nimbus.trigger.dead-redis'),
          publish: async () => void (await redis.xadd(stream, '*', 'data', payload)),
          tearDown: async () => undefined,
        };
      },
    },
  ];

  test("a failing function's events are retried and dead-lettered, for every broker kind", { skip }, async (t) => {
    await Promise.all(
      kinds.map(async (kind) => {
        const name = `dead-${kind.type}`;
        const broker = await kind.setUp(name);
        try {
          await deployCloudEventEcho(platform.url, name, { env: { FAIL: '1' }, maxRetries: 1, retryDelay: '100ms' });
          await createTrigger(platform.url, name, { function: name, type: kind.type, settings: broker.settings });
          await broker.consuming();
          await broker.publish();
          const [dead] = await receivedEvents(platform.url, name, 1, { settledAs: 'dead' });
          assert.equal(dead?.invocation.attempts, 2, `${kind.label}: one try and one retry`);
          assert.equal(dead?.invocation.trigger, name);
          assert.equal(dead?.headers['ce-type'], `dev.nimbus.${kind.type === 'redis' ? 'redis.entry' : `${kind.type}.message`}`);
          assert.deepEqual(dead?.body, payload, `${kind.label}: the exact bytes, on the last attempt too`);
          t.diagnostic(`${kind.label}: dead after ${dead?.invocation.attempts} attempts`);
        } finally {
          await broker.tearDown();
        }
      }),
    );
  });
});
