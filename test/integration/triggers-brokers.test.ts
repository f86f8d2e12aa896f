/**
 * NATS, JetStream and MQTT triggers end to end: a message published to the machine's broker
 * reaches the function as a CloudEvent (binary mode) with its exact bytes; a removed trigger's
 * consumer goes with it; a trigger whose broker cannot be reached shows `failing` with the reason,
 * and the platform carries on.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { listening } from '../triggers/private-broker.js';
import { api, startPlatform, type TestPlatform, waitFor } from './harness.js';
import { createTrigger, deployCloudEventEcho, getTrigger, receivedEvents } from './trigger-fixtures.js';

describe('broker triggers, end to end', async () => {
  const missing = [(await listening(4222)) ? undefined : 'NATS on 127.0.0.1:4222', (await listening(1883)) ? undefined : 'Mosquitto on 127.0.0.1:1883'].filter(Boolean);
  if (missing.length > 0 && process.env.CI === 'true') {
    test('the brokers are reachable (CI starts them)', () => assert.fail(`not listening: ${missing.join(', ')}`));
    return;
  }
  const skip = missing.length > 0 ? `not listening: ${missing.join(', ')}` : false;
  let platform: TestPlatform;
  before(async () => {
    if (skip) return;
    platform = await startPlatform({ keepData: true });
  });
  after(async () => {
    if (skip) return;
    await platform.close();
    await rm(platform.dataDir, { recursive: true, force: true });
  });
  const payload = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13]);

  test('JetStream: the message arrives as a CloudEvent with its bytes, id stream:sequence and the nats extensions', { skip }, async () => {
    const stream = `E2E${randomUUID().slice(0, 8)}`;
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const manager = await jetstreamManager(nc);
    await manager.streams.add({ name: stream, subjects: [`${stream}.>`] });
    try {
      await deployCloudEventEcho(platform.url, 'js-echo');
      await createTrigger(platform.url, 'orders-js', { function: 'js-echo', type: 'nats', settings: { subject: `${stream}.created`, stream } });
      await waitFor(async () => (await getTrigger(platform.url, 'orders-js')).status === 'active', 20_000, 'the trigger to be active');
      await jetstream(nc).publish(`${stream}.created`, payload);
      const [event] = await receivedEvents(platform.url, 'js-echo', 1);
      assert.deepEqual(event?.body, payload);
      assert.equal(event?.headers['ce-type'], 'dev.nimbus.nats.message');
      assert.equal(event?.headers['ce-id'], `${stream}:1`);
      assert.equal(event?.headers['ce-subject'], `${stream}.created`);
      assert.equal(event?.headers['ce-source'], `nats://127.0.0.1:4222/${stream}`);
      assert.equal(event?.headers['ce-natsstream'], stream);
      assert.equal(event?.headers['ce-natsseq'], '1');
      assert.equal(event?.headers['x-nimbus-trigger'], 'orders-js');

      // Removing the trigger removes the consumer Nimbus made, which would hold messages for nobody.
      assert.equal((await manager.consumers.info(stream, 'nimbus-orders-js')).name, 'nimbus-orders-js');
      assert.equal((await api(platform.url, 'DELETE', '/api/v1/triggers/orders-js')).status, 204);
      await assert.rejects(manager.consumers.info(stream, 'nimbus-orders-js'), /consumer not found/);
    } finally {
      await manager.streams.delete(stream);
      await nc.close();
    }
  });

  test('core NATS: the message arrives with its reply subject as natsreply', { skip }, async () => {
    const subject = `e2e${randomUUID().slice(0, 8)}.events`;
    await deployCloudEventEcho(platform.url, 'core-echo');
    await createTrigger(platform.url, 'core', { function: 'core-echo', type: 'nats', settings: { subject } });
    await waitFor(async () => (await getTrigger(platform.url, 'core')).status === 'active', 20_000, 'the trigger to be active');
    const nc = await connect({ servers: '127.0.0.1:4222' });
    nc.publish(subject, payload, { reply: 'answers' });
    await nc.flush();
    await nc.close();
    const [event] = await receivedEvents(platform.url, 'core-echo', 1);
    assert.deepEqual(event?.body, payload);
    assert.equal(event?.headers['ce-natsreply'], 'answers');
  });

  test('MQTT QoS 1: the message arrives as a CloudEvent with the topic as subject and the mqtt extensions', { skip }, async () => {
    const topic = `e2e/${randomUUID().slice(0, 8)}/temperature`;
    await deployCloudEventEcho(platform.url, 'mqtt-echo');
    // The trigger's persistent session, subscribed before the trigger exists: a new trigger shows
    // `active` before its source subscribed, and the broker drops what has no subscriber.
    const session = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: 'nimbus-sensors', clean: false, properties: { sessionExpiryInterval: 600 } });
    await session.subscribeAsync('e2e/+/temperature', { qos: 1 });
    await session.endAsync();
    await createTrigger(platform.url, 'sensors', { function: 'mqtt-echo', type: 'mqtt', settings: { topic: 'e2e/+/temperature' } });
    await waitFor(async () => (await getTrigger(platform.url, 'sensors')).status === 'active', 20_000, 'the trigger to be active');
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
    await client.publishAsync(topic, payload, { qos: 1, properties: { userProperties: { id: 'reading-1' } } });
    await client.endAsync();
    const [event] = await receivedEvents(platform.url, 'mqtt-echo', 1);
    assert.deepEqual(event?.body, payload);
    assert.equal(event?.headers['ce-type'], 'dev.nimbus.mqtt.message');
    assert.equal(event?.headers['ce-id'], 'reading-1');
    assert.equal(event?.headers['ce-subject'], topic);
    assert.equal(event?.headers['ce-mqttqos'], '1');
    // The session stays on the broker after the test: remove it.
    const forget = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, clientId: 'nimbus-sensors', clean: true });
    await forget.endAsync();
  });

  test('a broker that cannot be reached: the trigger is failing with the reason', { skip }, async () => {
    await deployCloudEventEcho(platform.url, 'nowhere-echo');
    // Creating a trigger for a closed port is refused (the source check): the broker "goes away"
    // through its secret's new value instead, which restarts the source without a check.
    await api(platform.url, 'PUT', '/api/v1/secrets/NOWHERE_NATS_URL', { value: 'nats://127.0.0.1:4222' });
    await createTrigger(platform.url, 'nowhere', { function: 'nowhere-echo', type: 'nats', settings: { urlSecret: 'NOWHERE_NATS_URL', subject: 'a' } });
    await api(platform.url, 'PUT', '/api/v1/secrets/NOWHERE_NATS_URL', { value: 'nats://127.0.0.1:1' });
    await waitFor(async () => (await getTrigger(platform.url, 'nowhere')).status === 'failing', 20_000, 'the trigger to be failing');
    assert.match((await getTrigger(platform.url, 'nowhere')).error ?? '', /cannot connect to nats:\/\/127\.0\.0\.1:1/);
  });
});
