/**
 * The `nats` trigger source against real NATS servers: the shared contract (core NATS and
 * JetStream) on the machine's server (127.0.0.1:4222), JetStream redelivery across a restart of
 * the source, headers as extensions, a private nats-server killed and started again, and the
 * settings' validation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { natsSource, type NatsSettings } from '../../src/triggers/sources/nats.js';
import { natsProblem, natsRelease } from '../../src/triggers/sources/nats-check.js';
import type { EventSink, SourceContext, TriggerSource } from '../../src/triggers/types.js';
import { RecordingSink, RefusingSink, sourceContext } from './recording-sink.js';
import { listening, missingBinary, NATS_SERVER, PrivateBroker } from './private-broker.js';
import { sourceContract } from './source-contract.js';

const SHARED = 'nats://127.0.0.1:4222';
const settingsOf = (input: unknown): NatsSettings => natsSource.settings.parse(input);

const publishers = new Map<string, Promise<NatsConnection>>();
/** One publishing connection per server, closed at the end. */
function publisher(url: string): Promise<NatsConnection> {
  let connection = publishers.get(url);
  if (!connection) {
    connection = connect({ servers: new URL(url).host });
    publishers.set(url, connection);
  }
  return connection;
}
after(async () => {
  for (const connection of publishers.values()) await (await connection.catch(() => undefined))?.close();
});

const unavailable = async () => ((await listening(4222)) ? undefined : `nothing listens on 127.0.0.1:4222`);

async function makeStream(url: string, name: string): Promise<void> {
  const manager = await jetstreamManager(await publisher(url));
  await manager.streams.add({ name, subjects: [`${name}.>`] });
}

sourceContract<NatsSettings>({
  name: 'nats (core)',
  eventType: 'dev.nimbus.nats.message',
  atLeastOnce: false,
  unavailable,
  settings: (unique) => settingsOf({ subject: `${unique}.events` }),
  unreachable: (unique) => settingsOf({ url: 'nats://127.0.0.1:1', subject: unique }),
  create: (context) => natsSource.create!(context),
  async publish(settings, payload) {
    const connection = await publisher(settings.url);
    connection.publish(settings.subject, payload);
    await connection.flush();
  },
});

sourceContract<NatsSettings>({
  name: 'nats (JetStream)',
  eventType: 'dev.nimbus.nats.message',
  atLeastOnce: true,
  unavailable,
  async settings(unique) {
    await makeStream(SHARED, unique);
    return settingsOf({ subject: `${unique}.events`, stream: unique });
  },
  unreachable: (unique) => settingsOf({ url: 'nats://127.0.0.1:1', subject: `${unique}.events`, stream: unique }),
  create: (context) => natsSource.create!(context),
  async publish(settings, payload) {
    await jetstream(await publisher(settings.url)).publish(settings.subject, payload);
  },
  async cleanup(settings) {
    if (settings.stream) await (await jetstreamManager(await publisher(settings.url))).streams.delete(settings.stream);
  },
});

function contextOf(settings: NatsSettings, sink: EventSink, trigger?: string, secrets?: Record<string, string>) {
  return sourceContext(settings, { sink, ...(trigger === undefined ? {} : { trigger }), ...(secrets === undefined ? {} : { secrets }) });
}

describe('nats source, beyond the contract', async () => {
  const reason = await unavailable();
  if (reason !== undefined && process.env.CI === 'true') {
    test('NATS is reachable (CI starts it)', () => assert.fail(reason));
    return;
  }
  const skip = reason ?? false;
  const running: TriggerSource[] = [];
  after(async () => {
    for (const source of running) await source.stop();
  });
  const start = async (context: SourceContext<NatsSettings>) => {
    const source = natsSource.create!(context);
    running.push(source);
    await source.start();
    return source;
  };

  test('JetStream: a message refused and left unacked when the source stops comes to the next source of the same consumer, with the same id', { skip }, async () => {
    const unique = `nimbus-${randomUUID().slice(0, 8)}`;
    await makeStream(SHARED, unique);
    try {
      const settings = settingsOf({ subject: `${unique}.events`, stream: unique });
      const refusing = new RefusingSink();
      const first = contextOf(settings, refusing, 'redelivery');
      const source = await start(first.context);
      await first.status.waitFor('active');
      await jetstream(await publisher(SHARED)).publish(`${unique}.events`, Buffer.from('again'));
      await refusing.offeredOnce();
      await source.stop();
      const offered = refusing.offered[0]!;
      assert.equal(offered.id, `${unique}:1`);
      assert.equal(offered.extensions?.natsredelivered, 'false');

      const sink = new RecordingSink();
      const second = contextOf(settings, sink, 'redelivery');
      await start(second.context);
      const [event] = await sink.waitFor(1, 15_000);
      assert.equal(event?.id, offered.id, 'the same id on redelivery');
      assert.equal(event?.data.toString(), 'again');
      assert.equal(event?.extensions?.natsredelivered, 'true');
      assert.ok(Number(event?.extensions?.natsdeliveries) >= 2);
      assert.equal(event?.extensions?.natsstream, unique);
      assert.equal(event?.subject, `${unique}.events`);
      assert.equal(event?.source, `nats://127.0.0.1:4222/${unique}`);
    } finally {
      await (await jetstreamManager(await publisher(SHARED))).streams.delete(unique);
    }
  });

  test('JetStream: a consumer of the same name that is not a pull consumer with explicit acks is refused with the reason', { skip }, async () => {
    const unique = `nimbus-${randomUUID().slice(0, 8)}`;
    await makeStream(SHARED, unique);
    const manager = await jetstreamManager(await publisher(SHARED));
    try {
      await manager.consumers.add(unique, { durable_name: 'theirs', ack_policy: AckPolicy.None, filter_subject: `${unique}.>` });
      const { context, status } = contextOf(settingsOf({ subject: `${unique}.events`, stream: unique, consumer: 'theirs' }), new RecordingSink());
      await start(context);
      await status.waitFor('failing');
      assert.match(status.last?.reason ?? '', /theirs.*explicit acks/);
    } finally {
      await manager.streams.delete(unique);
    }
  });

  test('JetStream: an existing pull consumer of that name with another filter is updated to the trigger\'s subject', { skip }, async () => {
    const unique = `nimbus-${randomUUID().slice(0, 8)}`;
    await makeStream(SHARED, unique);
    const manager = await jetstreamManager(await publisher(SHARED));
    try {
      await manager.consumers.add(unique, { durable_name: 'mine', ack_policy: AckPolicy.Explicit, filter_subject: `${unique}.old` });
      const sink = new RecordingSink();
      const { context, status } = contextOf(settingsOf({ subject: `${unique}.new`, stream: unique, consumer: 'mine' }), sink);
      await start(context);
      await status.waitFor('active');
      assert.equal((await manager.consumers.info(unique, 'mine')).config.filter_subject, `${unique}.new`);
      await jetstream(await publisher(SHARED)).publish(`${unique}.new`, Buffer.from('new subject'));
      const [event] = await sink.waitFor(1);
      assert.equal(event?.data.toString(), 'new subject');
    } finally {
      await manager.streams.delete(unique);
    }
  });

  test('natsRelease: the consumer Nimbus named for a removed trigger is deleted; one the trigger named stays', { skip }, async () => {
    const unique = `nimbus-${randomUUID().slice(0, 8)}`;
    await makeStream(SHARED, unique);
    const manager = await jetstreamManager(await publisher(SHARED));
    try {
      const ours = settingsOf({ subject: `${unique}.events`, stream: unique });
      const { context, status } = contextOf(ours, new RecordingSink(), 'released');
      const source = await start(context);
      await status.waitFor('active');
      await source.stop();
      assert.equal((await manager.consumers.info(unique, 'nimbus-released')).name, 'nimbus-released', 'the source made its consumer');
      assert.equal(await natsRelease(ours, {}, 'released'), undefined);
      await assert.rejects(manager.consumers.info(unique, 'nimbus-released'), /consumer not found/);
      assert.equal(await natsRelease(ours, {}, 'released'), undefined, 'releasing again is fine');

      await manager.consumers.add(unique, { durable_name: 'theirs', ack_policy: AckPolicy.Explicit, filter_subject: `${unique}.>` });
      assert.equal(await natsRelease(settingsOf({ subject: `${unique}.events`, stream: unique, consumer: 'theirs' }), {}, 'released'), undefined);
      assert.equal((await manager.consumers.info(unique, 'theirs')).name, 'theirs', "the user's consumer stays");
      assert.match((await natsRelease(settingsOf({ url: 'nats://127.0.0.1:1', subject: 'a', stream: unique }), {}, 'released')) ?? '', /cannot connect.*nats consumer rm/);
    } finally {
      await manager.streams.delete(unique);
    }
  });

  test('JetStream: a stream that does not exist: failing, saying so', { skip }, async () => {
    const { context, status } = contextOf(settingsOf({ subject: 'nowhere.events', stream: `nimbus-missing-${randomUUID().slice(0, 8)}` }), new RecordingSink());
    await start(context);
    await status.waitFor('failing');
    assert.match(status.last?.reason ?? '', /does not exist.*create it first/);
  });

  test('core NATS: headers whose names fit become extensions, the reply subject too, Nats-Msg-Id is the id', { skip }, async () => {
    const subject = `nimbus-${randomUUID().slice(0, 8)}.events`;
    const sink = new RecordingSink();
    const { context, status } = contextOf(settingsOf({ subject }), sink);
    await start(context);
    await status.waitFor('active');
    const h = headers();
    h.set('Nats-Msg-Id', 'order-42');
    h.set('Tenant', 'acme');
    h.set('X-Trace-Id', 'skipped: a dash');
    h.set('Content-Type', 'application/json');
    const connection = await publisher(SHARED);
    connection.publish(subject, Buffer.from('{"a":1}'), { headers: h, reply: 'answers.here' });
    await connection.flush();
    const [event] = await sink.waitFor(1);
    assert.equal(event?.id, 'order-42');
    assert.equal(event?.contentType, 'application/json');
    assert.deepEqual(event?.extensions, { natstenant: 'acme', natsreply: 'answers.here' });
    assert.equal(event?.source, `nats://127.0.0.1:4222/${encodeURIComponent(subject)}`);
  });

  test('natsProblem: undefined for a server that answers; the reason for a closed port, a missing stream or secret', { skip }, async () => {
    assert.equal(await natsProblem(settingsOf({ subject: 'a' }), {}), undefined);
    assert.match((await natsProblem(settingsOf({ url: 'nats://127.0.0.1:1', subject: 'a' }), {})) ?? '', /cannot connect to nats:\/\/127\.0\.0\.1:1/);
    assert.match((await natsProblem(settingsOf({ subject: 'a', stream: `nimbus-missing-${randomUUID().slice(0, 8)}` }), {})) ?? '', /does not exist/);
    assert.match((await natsProblem(settingsOf({ subject: 'a', urlSecret: 'NOT_SET' }), {})) ?? '', /NOT_SET.*not set/);
  });

  test('the URL in the secret named by urlSecret wins over url', { skip }, async () => {
    const subject = `nimbus-${randomUUID().slice(0, 8)}.events`;
    const sink = new RecordingSink();
    const settings = settingsOf({ url: 'nats://127.0.0.1:1', urlSecret: 'NATS_URL', subject });
    const { context, status } = contextOf(settings, sink, undefined, { NATS_URL: SHARED });
    await start(context);
    await status.waitFor('active');
  });
});

describe('nats source, a server that goes away and comes back', async () => {
  const missing = missingBinary(NATS_SERVER);
  if (missing !== undefined && process.env.CI === 'true') {
    test('nats-server is installed (CI installs it)', () => assert.fail(missing));
    return;
  }
  for (const kind of ['core', 'JetStream'] as const) {
    test(`${kind}: failing while the server is down, active again and delivering once it is back`, { skip: missing ?? false }, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nimbus-nats-'));
      const broker = await PrivateBroker.nats(dir);
      const url = `nats://127.0.0.1:${broker.port}`;
      let source: TriggerSource | undefined;
      try {
        await broker.start();
        const stream = kind === 'JetStream' ? 'RESTART' : undefined;
        if (stream) await makeStream(url, stream);
        const settings = settingsOf({ url, subject: 'RESTART.events', ...(stream ? { stream } : {}) });
        const sink = new RecordingSink();
        const { context, status } = contextOf(settings, sink);
        source = natsSource.create!(context);
        await source.start();
        await status.waitFor('active');

        await broker.kill();
        await status.waitFor('failing');
        assert.match(status.last?.reason ?? '', new RegExp(`127\\.0\\.0\\.1:${broker.port}`));

        await broker.start();
        await status.waitFor('active', 40_000);
        const sent = await connect({ servers: `127.0.0.1:${broker.port}` });
        try {
          // Core NATS drops what no subscriber takes: publish until the resubscribed source has one.
          for (let i = 0; i < 50 && sink.events.length === 0; i++) {
            if (stream) await jetstream(sent).publish('RESTART.events', Buffer.from('after restart'));
            else sent.publish('RESTART.events', Buffer.from('after restart'));
            await sent.flush();
            if (stream) break;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          const [event] = await sink.waitFor(1);
          assert.equal(event?.data.toString(), 'after restart');
        } finally {
          await sent.close();
        }
      } finally {
        await source?.stop();
        await (await publishers.get(url)?.catch(() => undefined))?.close();
        publishers.delete(url);
        await broker.kill();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('nats settings', () => {
  test('defaults: the local server; the consumer is named after the trigger', () => {
    const settings = settingsOf({ subject: 'orders.*' });
    assert.equal(settings.url, 'nats://127.0.0.1:4222');
    assert.equal(settings.stream, undefined);
  });

  test('a URL with credentials is refused: the message says to use a secret', () => {
    const result = natsSource.settings.safeParse({ url: 'nats://me:secret@127.0.0.1:4222', subject: 'a' });
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /secret.*--url-secret/);
  });

  test('wildcards are allowed; bad subjects, other schemes, a consumer without a stream and unknown fields are refused', () => {
    for (const subject of ['a.*.c', 'a.>', '>', '*']) assert.ok(natsSource.settings.safeParse({ subject }).success, subject);
    for (const input of [
      { subject: 'a..b' },
      { subject: 'a.>.b' },
      { subject: 'has space' },
      { subject: '' },
      { subject: 'a', url: 'http://127.0.0.1:4222' },
      { subject: 'a', consumer: 'c' },
      { subject: 'a', stream: 'bad.name' },
      { subject: 'a', urlSecret: 'lower-case' },
      { subject: 'a', queue: 'q' },
    ]) {
      assert.equal(natsSource.settings.safeParse(input).success, false, JSON.stringify(input));
    }
  });

  test('secretNames names urlSecret', () => {
    assert.deepEqual(natsSource.secretNames(settingsOf({ subject: 'a', urlSecret: 'NATS_URL' })), ['NATS_URL']);
    assert.deepEqual(natsSource.secretNames(settingsOf({ subject: 'a' })), []);
  });
});
