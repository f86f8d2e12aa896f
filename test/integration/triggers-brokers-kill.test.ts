/**
 * Broker triggers survive a SIGKILL of the platform while messages keep arriving: after the
 * restart every message published reaches the function (counted): none lost. JetStream, AMQP and
 * Redis Streams are held to exactly once (their event ids are stable: stream sequence, message
 * hash, entry id, and an event's invocation id is made from the trigger and the event id, so a
 * redelivery after the kill runs once); MQTT QoS 1 at least once. Duplicates are listed as
 * diagnostics.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { startNimbus } from '../cli/helpers.js';
import { RabbitClient } from '../triggers/amqp-broker.js';
import { redisClient } from '../triggers/redis-server.js';
import { listening } from '../triggers/private-broker.js';
import { useAdminToken, waitFor } from './harness.js';
import { createTrigger, deployCloudEventEcho, getTrigger, invocationsOf, receivedEvents } from './trigger-fixtures.js';

const MESSAGES = 300;
const KILL_AFTER = 50;

interface Broker {
  port: number;
  settings: Record<string, unknown>;
  publish(payload: string): Promise<void>;
  close(): Promise<void>;
}

async function jetStreamBroker(): Promise<Broker> {
  const stream = `KILL${randomUUID().slice(0, 8)}`;
  const nc = await connect({ servers: '127.0.0.1:4222' });
  const manager = await jetstreamManager(nc);
  await manager.streams.add({ name: stream, subjects: [`${stream}.>`] });
  // A short ack wait, so what the killed platform held comes back within the test.
  await manager.consumers.add(stream, { durable_name: 'killed', ack_policy: AckPolicy.Explicit, ack_wait: nanos(2_000), filter_subject: `${stream}.in` });
  const js = jetstream(nc);
  return {
    port: 4222,
    settings: { subject: `${stream}.in`, stream, consumer: 'killed' },
    publish: async (payload) => void (await js.publish(`${stream}.in`, payload)),
    close: async () => (await manager.streams.delete(stream), await nc.close()),
  };
}

async function mqttBroker(trigger: string): Promise<Broker> {
  const topic = `kill/${randomUUID().slice(0, 8)}`;
  // The trigger's persistent session, subscribed before the trigger exists: a new trigger shows
  // `active` before its source has subscribed, and what is published before that would be
  // dropped by the broker (no subscriber), not lost by Nimbus.
  const session = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-${trigger}`, clean: false, properties: { sessionExpiryInterval: 3600 } });
  await session.subscribeAsync(topic, { qos: 1 });
  await session.endAsync();
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
  return {
    port: 1883,
    settings: { topic },
    publish: async (payload) => void (await client.publishAsync(topic, payload, { qos: 1 })),
    close: async () => {
      await client.endAsync();
      const forget = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: `nimbus-${trigger}`, clean: true });
      await forget.endAsync();
    },
  };
}

/** A durable queue declared before the trigger, so nothing published is routed nowhere. */
async function amqpBroker(): Promise<Broker> {
  const queue = `kill-${randomUUID().slice(0, 8)}`;
  const rabbit = new RabbitClient();
  await rabbit.admin((channel) => channel.assertQueue(queue, { durable: true }));
  return {
    port: 5672,
    settings: { queue },
    // Persistent and confirmed: the broker holds each message before the next is sent.
    publish: (payload) => rabbit.sendToQueue(queue, Buffer.from(payload), { persistent: true }),
    close: async () => (await rabbit.admin((channel) => channel.deleteQueue(queue)), await rabbit.close()),
  };
}

/** A stream and its consumer group made before the trigger, so no entry is skipped. */
async function redisBroker(): Promise<Broker> {
  const stream = `kill-${randomUUID().slice(0, 8)}`;
  const redis = redisClient();
  await redis.xgroup('CREATE', stream, 'killed', '0', 'MKSTREAM');
  return {
    port: 6379,
    settings: { stream, group: 'killed' },
    publish: async (payload) => void (await redis.xadd(stream, '*', 'data', payload)),
    close: async () => (await redis.del(stream), redis.disconnect()),
  };
}

describe('broker triggers across a SIGKILL of the platform', () => {
  for (const [name, type, port, make, exactlyOnce] of [
    ['JetStream', 'nats', 4222, () => jetStreamBroker(), true],
    ['MQTT QoS 1', 'mqtt', 1883, () => mqttBroker('kill-mqtt'), false],
    ['AMQP', 'amqp', 5672, () => amqpBroker(), true],
    ['Redis Streams', 'redis', 6379, () => redisBroker(), true],
  ] as const) {
    test(`${name}: every message published while the platform is killed and restarted reaches the function${exactlyOnce ? ', once' : ''}`, async (t) => {
      if (!(await listening(port))) {
        if (process.env.CI === 'true') assert.fail(`nothing listens on 127.0.0.1:${port} (CI starts it)`);
        t.skip(`nothing listens on 127.0.0.1:${port}`);
        return;
      }
      const broker = await make();
      const trigger = `kill-${type}`;
      const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-broker-kill-'));
      let platform = startNimbus(['up', '--port', '0', '--data-dir', dataDir]);
      try {
        let [, url] = (await platform.waitFor(/^Nimbus serving on (\S+)$/m, 60_000)) as string[];
        await useAdminToken(url!, dataDir);
        await deployCloudEventEcho(url!, 'echo', { asyncConcurrency: 8 });
        await createTrigger(url!, trigger, { function: 'echo', type, settings: broker.settings });
        await waitFor(async () => (await getTrigger(url!, trigger)).status === 'active', 20_000, 'the trigger to be active');

        let published = 0;
        const publishing = (async () => {
          for (; published < MESSAGES; published++) {
            await broker.publish(`m${published}`);
            await new Promise((resolve) => setTimeout(resolve, 3));
          }
        })();
        await waitFor(async () => (await invocationsOf(url!, 'echo')).length >= KILL_AFTER, 30_000, 'invocations before the kill');
        const publishedAtKill = published;
        platform.signal('SIGKILL');
        await platform.exited;
        await publishing;
        assert.ok(publishedAtKill < MESSAGES, `killed while messages kept arriving (${publishedAtKill} of ${MESSAGES} published)`);

        platform = startNimbus(['up', '--port', '0', '--data-dir', dataDir]);
        [, url] = (await platform.waitFor(/^Nimbus serving on (\S+)$/m, 60_000)) as string[];
        await useAdminToken(url!, dataDir);
        const bodies = async () => new Set((await receivedEvents(url!, 'echo', 0)).map((e) => e.body.toString()));
        await waitFor(async () => (await bodies()).size >= MESSAGES, 60_000, 'every message to reach the function').catch(async (error: unknown) => {
          const found = await bodies();
          t.diagnostic(`missing: ${Array.from({ length: MESSAGES }, (_, i) => `m${i}`).filter((m) => !found.has(m)).join(' ')}`);
          throw error;
        });
        const events = await receivedEvents(url!, 'echo', 0);
        const found = new Set(events.map((e) => e.body.toString()));
        assert.deepEqual(Array.from({ length: MESSAGES }, (_, i) => `m${i}`).filter((m) => !found.has(m)), [], 'none lost');
        const invocations = (await invocationsOf(url!, 'echo')).length;
        t.diagnostic(`${publishedAtKill} published at the kill; ${invocations} invocations for ${MESSAGES} messages`);
        const seen = new Map<string, string[]>();
        for (const event of events) seen.set(event.body.toString(), [...(seen.get(event.body.toString()) ?? []), event.headers['ce-id'] ?? '']);
        for (const [body, ids] of seen) if (ids.length > 1) t.diagnostic(`${body} ran ${ids.length} times, ce-id ${ids.join(', ')}`);
        if (exactlyOnce) assert.equal(invocations, MESSAGES, `each ${name} message ran the function once (stable ids, dedup)`);
      } finally {
        platform.signal('SIGKILL');
        await platform.exited;
        await broker.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
