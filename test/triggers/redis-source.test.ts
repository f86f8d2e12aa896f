/**
 * The redis trigger source against real Redis: the shared source contract on 127.0.0.1:6379, and
 * what is its own: settings validation, how an entry becomes an event, pending entries read again
 * by the next source (its own, and other consumers' stale ones), and a private redis-server killed
 * and started again.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { redisSource } from '../../src/triggers/sources/redis.js';
import { redisRelease } from '../../src/triggers/sources/redis-check.js';
import { redisEvent } from '../../src/triggers/sources/redis-event.js';
import { type RedisSettings, redisTriggerGroup } from '../../src/triggers/sources/redis-settings.js';
import { RedisSource, type RedisSourceOptions } from '../../src/triggers/sources/redis-source.js';
import type { EventSink, TriggerEvent } from '../../src/triggers/types.js';
import { waitFor } from '../integration/harness.js';
import { freePort } from './free-port.js';
import { type ContextParts, RecordingSink, sourceContext } from './recording-sink.js';
import { missingBinary, PrivateBroker, REDIS_SERVER } from './private-broker.js';
import { redisClient, redisUnavailable } from './redis-server.js';
import { sourceContract } from './source-contract.js';

const unreachablePort = await freePort();
const unavailable = await redisUnavailable();
const redis = redisClient();
after(() => redis.disconnect());

function parse(settings: unknown): RedisSettings {
  return redisSource.settings.parse(settings);
}

sourceContract<RedisSettings>({
  name: 'redis (streams)',
  eventType: 'dev.nimbus.redis.entry',
  atLeastOnce: true,
  unavailable: async () => unavailable,
  settings: (unique) => parse({ stream: unique }),
  unreachable: (unique) => parse({ url: `redis://127.0.0.1:${unreachablePort}`, stream: unique }),
  create: (context) => redisSource.create!(context),
  publish: async (settings, payload) => void (await redis.xadd(settings.stream, '*', 'data', payload)),
  cleanup: async (settings) => void (await redis.del(settings.stream)),
});

describe('redis settings', () => {
  test('defaults to the local server; the group defaults to one named after the trigger', () => {
    assert.deepEqual(parse({ stream: 'orders' }), { url: 'redis://127.0.0.1:6379', stream: 'orders' });
    assert.equal(redisTriggerGroup('resize'), 'nimbus.trigger.resize');
  });

  test('a stream is required; no unknown fields; no spaces in names; only redis: and rediss: URLs', () => {
    for (const bad of [{}, { stream: '' }, { stream: 'a b' }, { stream: 's', group: '' }, { stream: 's', queue: 'q' }, { stream: 's', url: 'amqp://127.0.0.1' }]) {
      assert.equal(redisSource.settings.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  test('a URL with credentials is refused with a message saying to use a secret, and without quoting it', () => {
    const result = redisSource.settings.safeParse({ url: 'redis://:hunter2@cache:6379/0', stream: 's' });
    assert.equal(result.success, false);
    const message = result.error!.issues.map((issue) => issue.message).join('; ');
    assert.match(message, /--url-secret/);
    assert.doesNotMatch(message, /hunter2/);
    assert.deepEqual(redisSource.secretNames(parse({ urlSecret: 'REDIS_URL', stream: 's' })), ['REDIS_URL']);
  });
});

describe('redis entries as events', () => {
  const entry = (fields: Array<[string, string | Buffer]>) => ({ id: '1700000000123-4', fields: fields.map(([n, v]) => [n, Buffer.from(v)] as [string, Buffer]) });

  test('the data field is the payload, byte for byte; content-type and other fields as attributes', () => {
    const event = redisEvent(entry([['data', Buffer.from([0, 0xff])], ['content-type', 'application/octet-stream'], ['tenant', 'acme'], ['Not-A-Name', 'x']]), 'orders', 'redis://127.0.0.1:6379/0/orders');
    assert.deepEqual(event.data, Buffer.from([0, 0xff]));
    assert.equal(event.id, 'orders:1700000000123-4');
    assert.equal(event.subject, 'orders');
    assert.equal(event.time, 1_700_000_000_123);
    assert.equal(event.contentType, 'application/octet-stream');
    assert.deepEqual(event.extensions, { redisstream: 'orders', redisid: '1700000000123-4', tenant: 'acme' });
  });

  test('payload, then body, when there is no data field', () => {
    assert.equal(redisEvent(entry([['body', 'b'], ['payload', 'p']]), 's', 'src').data.toString(), 'p');
    assert.equal(redisEvent(entry([['body', 'b']]), 's', 'src').data.toString(), 'b');
  });

  test('without a payload field the whole entry is sent as a JSON object', () => {
    const event = redisEvent(entry([['order', '17'], ['status', 'paid']]), 's', 'src');
    assert.equal(event.contentType, 'application/json');
    assert.deepEqual(JSON.parse(event.data.toString()), { order: '17', status: 'paid' });
    assert.deepEqual(event.extensions, { redisstream: 's', redisid: '1700000000123-4' });
  });
});

describe('redis source on Redis', { skip: unavailable !== undefined && process.env.CI !== 'true' ? unavailable : false }, () => {
  const running: RedisSource[] = [];
  const streams: string[] = [];
  after(async () => {
    for (const source of running) await source.stop();
    if (streams.length > 0) await redis.del(...streams);
  });

  interface Start extends ContextParts {
    options?: RedisSourceOptions;
  }
  const start = async (settings: RedisSettings, how: Start = {}) => {
    const { options = {}, ...parts } = how;
    const { context, status } = sourceContext(settings, parts);
    const source = new RedisSource(context, options);
    running.push(source);
    await source.start();
    return { source, status };
  };

  /** A sink that takes one batch and never says it is stored. */
  const stuckSink = () => {
    let taken: TriggerEvent | undefined;
    let started!: () => void;
    const delivering = new Promise<void>((resolve) => (started = resolve));
    const sink: EventSink = {
      deliver: (events) => ((taken = events[0]), started(), new Promise<void>(() => undefined)),
      whenRoom: async () => undefined,
    };
    return { sink, delivering, taken: () => taken };
  };

  test('an entry read but not acknowledged when the source stopped is delivered again, with the same id, by the next source', async () => {
    const stream = `nimbus-test-${randomUUID().slice(0, 8)}`;
    streams.push(stream);
    const trigger = `t-${randomUUID().slice(0, 8)}`;
    const stuck = stuckSink();
    const first = await start(parse({ stream }), { options: { stopGraceMs: 200 }, sink: stuck.sink, trigger });
    await first.status.waitFor('active');
    await redis.xadd(stream, '*', 'data', 'not acked');
    await stuck.delivering;
    await first.source.stop();
    const pending = (await redis.xpending(stream, redisTriggerGroup(trigger))) as [number, ...unknown[]];
    assert.equal(pending[0], 1, 'the entry is pending in the group');

    const sink = new RecordingSink();
    const second = await start(parse({ stream }), { sink, trigger });
    const [again] = await sink.waitFor(1);
    assert.equal(again?.data.toString(), 'not acked');
    assert.equal(again?.id, stuck.taken()?.id);
    await second.status.waitFor('active');
    await second.source.stop();
    assert.equal(((await redis.xpending(stream, redisTriggerGroup(trigger))) as [number])[0], 0, 'acknowledged');
  });

  test("redisRelease: a removed trigger's group is destroyed, the stream stays; a group the trigger named stays", async () => {
    const stream = `nimbus-test-${randomUUID().slice(0, 8)}`;
    streams.push(stream);
    const trigger = `t-${randomUUID().slice(0, 8)}`;
    const settings = parse({ stream });
    const { source, status } = await start(settings, { trigger });
    await status.waitFor('active');
    await source.stop();
    const groups = async () => ((await redis.xinfo('GROUPS', stream)) as unknown[][]).map((fields) => String(fields[1]));
    assert.deepEqual(await groups(), [redisTriggerGroup(trigger)]);
    assert.equal(await redisRelease(settings, {}, trigger), undefined);
    assert.deepEqual(await groups(), []);
    assert.equal(await redis.exists(stream), 1, 'the stream stays');
    assert.equal(await redisRelease(settings, {}, trigger), undefined, 'releasing again is fine');

    await redis.xgroup('CREATE', stream, 'theirs', '$');
    assert.equal(await redisRelease(parse({ stream, group: 'theirs' }), {}, trigger), undefined);
    assert.deepEqual(await groups(), ['theirs'], "the user's group stays");
    assert.match((await redisRelease(parse({ url: `redis://127.0.0.1:${unreachablePort}`, stream }), {}, trigger)) ?? '', /cannot connect.*XGROUP DESTROY/);
  });

  test("another consumer's entry left pending past claimIdleMs is claimed and delivered", async () => {
    const stream = `nimbus-test-${randomUUID().slice(0, 8)}`;
    streams.push(stream);
    const group = `g-${randomUUID().slice(0, 8)}`;
    const stuck = stuckSink();
    const first = await start(parse({ stream, group }), { options: { stopGraceMs: 200 }, sink: stuck.sink });
    await first.status.waitFor('active');
    await redis.xadd(stream, '*', 'data', 'left by another');
    await stuck.delivering;
    await first.source.stop();

    // Another trigger, so another consumer name, sharing the group.
    const sink = new RecordingSink();
    await start(parse({ stream, group }), { options: { claimIdleMs: 300 }, sink });
    const [claimed] = await sink.waitFor(1);
    assert.equal(claimed?.data.toString(), 'left by another');
    assert.equal(claimed?.id, stuck.taken()?.id);
  });

  test('stop does not wait for room in a full sink; the entry is delivered by the next source', { timeout: 20_000 }, async () => {
    const stream = `nimbus-test-${randomUUID().slice(0, 8)}`;
    streams.push(stream);
    const trigger = `t-${randomUUID().slice(0, 8)}`;
    const full = new RecordingSink();
    // A grace longer than the test's timeout: stop must end because it stops, not because the grace ran out.
    const first = await start(parse({ stream }), { options: { stopGraceMs: 600_000 }, sink: full, trigger });
    await first.status.waitFor('active');
    // Once the source is blocked in XREADGROUP (CLIENT LIST flags `b`), the sink fills up: the
    // entry is read (pending) and waits for room.
    const blocked = async () => {
      const clients = (await redis.client('LIST')) as string;
      return clients.split('\n').some((line) => line.includes(`name=nimbus-trigger-${trigger} `) && line.includes(' flags=b '));
    };
    await waitFor(blocked, 10_000, 'the source to block in its read');
    full.full();
    await redis.xadd(stream, '*', 'data', 'held while full');
    await waitFor(async () => ((await redis.xpending(stream, redisTriggerGroup(trigger))) as [number])[0] === 1, 10_000, 'the entry to be read');
    await first.source.stop();
    assert.equal(full.events.length, 0);

    const sink = new RecordingSink();
    await start(parse({ stream }), { sink, trigger });
    assert.equal((await sink.waitFor(1))[0]?.data.toString(), 'held while full');
  });

  test('urlSecret: the URL (credentials included) comes from the secret and wins over url; a missing secret is a failing reason', async () => {
    const stream = `nimbus-test-${randomUUID().slice(0, 8)}`;
    streams.push(stream);
    const settings = parse({ url: `redis://127.0.0.1:${unreachablePort}`, urlSecret: 'CACHE_URL', stream });
    const sink = new RecordingSink();
    // The shared server has no password; a secret's URL may have one (it is never shown).
    const { status } = await start(settings, { sink, secrets: { CACHE_URL: 'redis://127.0.0.1:6379/0' } });
    await status.waitFor('active');
    await redis.xadd(stream, '*', 'data', 'through the secret');
    const [event] = await sink.waitFor(1);
    assert.equal(event?.source, `redis://127.0.0.1:6379/0/${stream}`);

    const missing = await start(settings);
    await missing.status.waitFor('failing');
    assert.match(missing.status.last?.reason ?? '', /secret CACHE_URL/);
  });

  test('a stream (and its group) deleted while read: failing, then made again, and delivery resumes', async () => {
    const stream = `nimbus-test-${randomUUID().slice(0, 8)}`;
    streams.push(stream);
    const sink = new RecordingSink();
    const { status } = await start(parse({ stream }), { options: { blockMs: 200, retryDelayMs: 50 }, sink });
    await status.waitFor('active');
    await redis.del(stream);
    await status.waitFor('failing');
    assert.match(status.last?.reason ?? '', /NOGROUP/);
    await status.waitFor('active');
    await redis.xadd(stream, '*', 'data', 'after the stream came back');
    assert.equal((await sink.waitFor(1))[0]?.data.toString(), 'after the stream came back');
  });

  test('a server killed and started again: failing, then active, and delivery resumes', async (t) => {
    const missing = missingBinary(REDIS_SERVER);
    if (missing !== undefined) {
      if (process.env.CI === 'true') assert.fail(`${missing} (CI installs it)`);
      t.skip(missing);
      return;
    }
    const server = await PrivateBroker.redis();
    const url = `redis://127.0.0.1:${server.port}`;
    await server.start();
    t.after(() => server.kill());
    const sink = new RecordingSink();
    const { status } = await start(parse({ url: url, stream: 'events' }), { options: { reconnectDelayMs: 50, reconnectMaxDelayMs: 300, blockMs: 1000 }, sink });
    await status.waitFor('active');
    const publisher = redisClient(url);
    t.after(() => publisher.disconnect());
    await publisher.xadd('events', '*', 'data', 'before');
    await sink.waitFor(1);

    await server.kill();
    await status.waitFor('failing');
    assert.match(status.last?.reason ?? '', new RegExp(`127\\.0\\.0\\.1:${server.port}`));
    await server.start();
    // The server kept nothing (no persistence): the source makes its group again, at $.
    await status.waitFor('active', 15_000);
    await publisher.xadd('events', '*', 'data', 'after');
    const events = await sink.waitFor(2);
    assert.deepEqual(events.map((e) => e.data.toString()), ['before', 'after']);
  });
});
