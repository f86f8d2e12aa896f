/**
 * The `mqtt` trigger source against real Mosquitto brokers: the shared contract (QoS 1 and QoS 0)
 * on the machine's broker (127.0.0.1:1883), the persistent session (messages published while the
 * source is stopped arrive when it starts again; one never stored is not acknowledged), user
 * properties, a private mosquitto killed and started again, and the settings' validation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { ManualClock } from '../../src/core/clock.js';
import { mqttSource, type MqttSettings } from '../../src/triggers/sources/mqtt.js';
import { PAUSE_AFTER_MS } from '../../src/triggers/sources/mqtt-source.js';
import { mqttProblem, mqttRelease } from '../../src/triggers/sources/mqtt-check.js';
import type { EventSink, SourceContext, TriggerSource } from '../../src/triggers/types.js';
import { RecordingSink, RefusingSink, sourceContext } from './recording-sink.js';
import { listening, missingBinary, MOSQUITTO, PrivateBroker } from './private-broker.js';
import { sourceContract } from './source-contract.js';

const SHARED = 'mqtt://127.0.0.1:1883';
const settingsOf = (input: unknown): MqttSettings => mqttSource.settings.parse(input);

const publishers = new Map<string, Promise<MqttClient>>();
/** One publishing client per broker (MQTT 5, so user properties can be sent), closed at the end. */
function publisher(url: string): Promise<MqttClient> {
  let client = publishers.get(url);
  if (!client) {
    client = mqtt.connectAsync(url, { protocolVersion: 5, clientId: `nimbus-test-pub-${randomUUID().slice(0, 8)}`, reconnectPeriod: 200 });
    publishers.set(url, client);
  }
  return client;
}
after(async () => {
  for (const client of publishers.values()) await (await client.catch(() => undefined))?.endAsync(true);
});
async function publish(url: string, topic: string, payload: Buffer, properties?: mqtt.IClientPublishOptions['properties']): Promise<void> {
  await (await publisher(url)).publishAsync(topic, payload, { qos: 1, ...(properties ? { properties } : {}) });
}

/** Removes a trigger's persistent session from the shared broker, as removing the trigger does. */
async function forgetSession(trigger: string): Promise<void> {
  const problem = await mqttRelease(settingsOf({ url: SHARED, topic: 'any' }), {}, trigger);
  if (problem !== undefined) throw new Error(problem);
}

const unavailable = async () => ((await listening(1883)) ? undefined : 'nothing listens on 127.0.0.1:1883');

/** The trigger each contract source ran as, so its persistent session can be removed afterwards. */
const triggerOf = new WeakMap<MqttSettings, string>();

for (const qos of [1, 0] as const) {
  sourceContract<MqttSettings>({
    name: `mqtt (QoS ${qos})`,
    eventType: 'dev.nimbus.mqtt.message',
    atLeastOnce: qos === 1,
    unavailable,
    settings: (unique) => settingsOf({ topic: `nimbus/${unique}/events`, qos }),
    unreachable: (unique) => settingsOf({ url: 'mqtt://127.0.0.1:1', topic: unique, qos }),
    create(context) {
      triggerOf.set(context.settings, context.trigger);
      return mqttSource.create!(context);
    },
    publish: (settings, payload) => publish(settings.url, settings.topic, payload),
    async cleanup(settings) {
      const trigger = triggerOf.get(settings);
      if (trigger !== undefined && settings.qos === 1 && settings.url === SHARED) await forgetSession(trigger);
    },
  });
}

function contextOf(settings: MqttSettings, sink: EventSink, trigger?: string, secrets?: Record<string, string>) {
  return sourceContext(settings, { sink, ...(trigger === undefined ? {} : { trigger }), ...(secrets === undefined ? {} : { secrets }) });
}

/** A recording sink that tells when a source next asks for room. */
class WatchedSink extends RecordingSink {
  private waiter: (() => void) | undefined;
  override whenRoom(): Promise<void> {
    this.waiter?.();
    this.waiter = undefined;
    return super.whenRoom();
  }
  nextWait(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

describe('mqtt source, beyond the contract', async () => {
  const reason = await unavailable();
  if (reason !== undefined && process.env.CI === 'true') {
    test('Mosquitto is reachable (CI starts it)', () => assert.fail(reason));
    return;
  }
  const skip = reason ?? false;
  const running: TriggerSource[] = [];
  const triggers: string[] = [];
  after(async () => {
    for (const source of running) await source.stop();
    for (const trigger of triggers) await forgetSession(trigger).catch(() => undefined);
  });
  const start = async (context: SourceContext<MqttSettings>) => {
    const source = mqttSource.create!(context);
    running.push(source);
    triggers.push(context.trigger);
    await source.start();
    return source;
  };

  /** A QoS 1 trigger whose source ran (so its broker session exists) and stopped again. */
  const stoppedSession = async (prefix: string) => {
    const trigger = `${prefix}-${randomUUID().slice(0, 8)}`;
    const settings = settingsOf({ topic: `nimbus/${trigger}/+` });
    const first = contextOf(settings, new RecordingSink(), trigger);
    const source = await start(first.context);
    await first.status.waitFor('active');
    await source.stop();
    return { trigger, settings };
  };

  test('QoS 1: messages published while the source is stopped arrive, in order, once it starts again (persistent session)', { skip }, async () => {
    const { trigger, settings } = await stoppedSession('persist');
    for (let i = 0; i < 3; i++) await publish(SHARED, `nimbus/${trigger}/e`, Buffer.from(`while away ${i}`));
    const sink = new RecordingSink();
    const second = contextOf(settings, sink, trigger);
    await start(second.context);
    const events = await sink.waitFor(3);
    assert.deepEqual(events.map((e) => e.data.toString()), ['while away 0', 'while away 1', 'while away 2']);
    assert.equal(events[0]?.subject, `nimbus/${trigger}/e`);
    assert.equal(events[0]?.source, `mqtt://127.0.0.1:1883/nimbus/${trigger}/%2B`);
  });

  test("mqttRelease: a removed QoS 1 trigger's session ends, so what was queued for it is dropped", { skip }, async () => {
    const { trigger, settings } = await stoppedSession('released');
    await publish(SHARED, `nimbus/${trigger}/e`, Buffer.from('queued for a trigger since removed'));
    assert.equal(await mqttRelease(settings, {}, trigger), undefined);
    // A trigger of the same name made again starts without the old session: nothing queued arrives.
    const sink = new RecordingSink();
    const again = contextOf(settings, sink, trigger);
    await start(again.context);
    await again.status.waitFor('active');
    await publish(SHARED, `nimbus/${trigger}/e`, Buffer.from('after'));
    const [event] = await sink.waitFor(1);
    assert.equal(event?.data.toString(), 'after');
    assert.equal(await mqttRelease(settingsOf({ topic: 'a', qos: 0 }), {}, trigger), undefined, 'QoS 0 has no session');
    assert.match((await mqttRelease(settingsOf({ url: 'mqtt://127.0.0.1:1', topic: 'a' }), {}, trigger)) ?? '', /ending the session/);
  });

  test('QoS 1: a message never stored is not acknowledged: after a stop, the next source of the trigger gets it (DUP set)', { skip }, async () => {
    const trigger = `unacked-${randomUUID().slice(0, 8)}`;
    const settings = settingsOf({ topic: `nimbus/${trigger}` });
    const refusing = new RefusingSink();
    const first = contextOf(settings, refusing, trigger);
    const source = await start(first.context);
    await first.status.waitFor('active');
    await publish(SHARED, `nimbus/${trigger}`, Buffer.from('not stored'));
    await refusing.offeredOnce();
    await source.stop();
    const sink = new RecordingSink();
    const second = contextOf(settings, sink, trigger);
    await start(second.context);
    const [event] = await sink.waitFor(1);
    assert.equal(event?.data.toString(), 'not stored');
    assert.equal(event?.extensions?.mqttdup, 'true');
    assert.equal(event?.extensions?.mqttqos, '1');
  });

  test('QoS 1: a backlog full past the pause threshold: the source disconnects without acknowledging, and everything arrives in order once there is room', { skip }, async () => {
    const trigger = `pause-${randomUUID().slice(0, 8)}`;
    const clock = new ManualClock(Date.now());
    const sink = new WatchedSink();
    const { context, status } = contextOf(settingsOf({ topic: `nimbus/${trigger}` }), sink, trigger);
    await start({ ...context, clock });
    await status.waitFor('active');
    await publish(SHARED, `nimbus/${trigger}`, Buffer.from('before'));
    await sink.waitFor(1);
    sink.full();
    const waiting = sink.nextWait();
    for (let i = 0; i < 3; i++) await publish(SHARED, `nimbus/${trigger}`, Buffer.from(`held ${i}`));
    await waiting; // the source holds 'held 0' and waits for room
    clock.advance(PAUSE_AFTER_MS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(sink.events.length, 1, 'nothing delivered while paused');
    sink.makeRoom();
    const events = await sink.waitFor(4);
    assert.deepEqual(events.map((e) => e.data.toString()), ['before', 'held 0', 'held 1', 'held 2']);
    assert.equal(events[1]?.extensions?.mqttdup, 'true', 'resent by the broker: it was not acknowledged');
    assert.ok(status.reports.every((r) => r.state === 'active'), `a pause is not a failure: ${JSON.stringify(status.reports)}`);
  });

  test('user properties whose names fit become extensions; the user property id is the event id; the content type is kept', { skip }, async () => {
    const trigger = `props-${randomUUID().slice(0, 8)}`;
    const sink = new RecordingSink();
    const { context, status } = contextOf(settingsOf({ topic: `nimbus/${trigger}` }), sink, trigger);
    await start(context);
    await status.waitFor('active');
    await publish(SHARED, `nimbus/${trigger}`, Buffer.from('{}'), {
      contentType: 'application/json',
      userProperties: { id: 'reading-7', Tenant: 'acme', 'x-trace': 'skipped: a dash' },
    });
    const [event] = await sink.waitFor(1);
    assert.equal(event?.id, 'reading-7');
    assert.equal(event?.contentType, 'application/json');
    assert.deepEqual(event?.extensions, { mqttid: 'reading-7', mqtttenant: 'acme', mqttretain: 'false', mqttqos: '1', mqttdup: 'false' });
  });

  test('mqttProblem: undefined for a broker that answers; the reason for a closed port or a missing secret', { skip }, async () => {
    assert.equal(await mqttProblem(settingsOf({ topic: 'a' }), {}), undefined);
    assert.match((await mqttProblem(settingsOf({ url: 'mqtt://127.0.0.1:1', topic: 'a' }), {})) ?? '', /cannot connect to mqtt:\/\/127\.0\.0\.1:1/);
    assert.match((await mqttProblem(settingsOf({ topic: 'a', urlSecret: 'NOT_SET' }), {})) ?? '', /NOT_SET.*not set/);
  });

  test('the URL in the secret named by urlSecret wins over url', { skip }, async () => {
    const settings = settingsOf({ url: 'mqtt://127.0.0.1:1', urlSecret: 'MQTT_URL', topic: `nimbus/${randomUUID().slice(0, 8)}` });
    const { context, status } = contextOf(settings, new RecordingSink(), undefined, { MQTT_URL: SHARED });
    await start(context);
    await status.waitFor('active');
  });
});

describe('mqtt source, a broker that goes away and comes back', async () => {
  const missing = missingBinary(MOSQUITTO);
  if (missing !== undefined && process.env.CI === 'true') {
    test('mosquitto is installed (CI installs it)', () => assert.fail(missing));
    return;
  }
  test('failing while the broker is down, active again and delivering once it is back', { skip: missing ?? false }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nimbus-mqtt-'));
    const broker = await PrivateBroker.mosquitto(dir);
    const url = `mqtt://127.0.0.1:${broker.port}`;
    let source: TriggerSource | undefined;
    try {
      await broker.start();
      const sink = new RecordingSink();
      const { context, status } = contextOf(settingsOf({ url, topic: 'restart/#' }), sink);
      source = mqttSource.create!(context);
      await source.start();
      await status.waitFor('active');

      await broker.kill();
      await status.waitFor('failing');
      assert.match(status.last?.reason ?? '', new RegExp(`127\\.0\\.0\\.1:${broker.port}`));

      await broker.start();
      await status.waitFor('active', 20_000);
      await publish(url, 'restart/a', Buffer.from('after restart'));
      const [event] = await sink.waitFor(1);
      assert.equal(event?.data.toString(), 'after restart');
    } finally {
      await source?.stop();
      await (await publishers.get(url)?.catch(() => undefined))?.endAsync(true);
      publishers.delete(url);
      await broker.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mqtt settings', () => {
  test('defaults: the local broker, QoS 1', () => {
    const settings = settingsOf({ topic: 'sensors/#' });
    assert.equal(settings.url, 'mqtt://127.0.0.1:1883');
    assert.equal(settings.qos, 1);
  });

  test('a URL with credentials is refused: the message says to use a secret', () => {
    const result = mqttSource.settings.safeParse({ url: 'mqtt://me:secret@127.0.0.1:1883', topic: 'a' });
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /secret.*--url-secret/);
  });

  test('wildcards are allowed where MQTT allows them; bad filters, QoS 2, other schemes and unknown fields are refused', () => {
    for (const topic of ['a/+/c', 'a/#', '#', '+', '/a', 'a/b/']) assert.ok(mqttSource.settings.safeParse({ topic }).success, topic);
    for (const input of [
      { topic: '' },
      { topic: 'a/#/b' },
      { topic: 'a/b#' },
      { topic: 'a+/b' },
      { topic: 'a', qos: 2 },
      { topic: 'a', url: 'nats://127.0.0.1:1883' },
      { topic: 'a', subject: 'b' },
    ]) {
      assert.equal(mqttSource.settings.safeParse(input).success, false, JSON.stringify(input));
    }
  });
});
