/**
 * The amqp trigger source against the real RabbitMQ on 127.0.0.1:5672: the shared source contract
 * (queue mode), and what is its own: exchange bindings, settings validation, ids stable across
 * redelivery, a message unacknowledged when the source stopped, a missing exchange, and a
 * connection the server closes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Message } from 'amqplib';
import { amqpSource } from '../../src/triggers/sources/amqp.js';
import { amqpRelease } from '../../src/triggers/sources/amqp-check.js';
import { amqpEventId } from '../../src/triggers/sources/amqp-event.js';
import { type AmqpSettings, amqpTriggerQueue } from '../../src/triggers/sources/amqp-settings.js';
import { AmqpSource, type AmqpSourceOptions } from '../../src/triggers/sources/amqp-source.js';
import type { EventSink, TriggerEvent } from '../../src/triggers/types.js';
import { RABBITMQ_URL, RabbitClient, closeConnectionNamed, rabbitUnavailable, rabbitmqctlWorks } from './amqp-broker.js';
import { waitFor } from '../integration/harness.js';
import { freePort } from './free-port.js';
import { type ContextParts, MemoryState, RecordingSink, sourceContext } from './recording-sink.js';
import { sourceContract } from './source-contract.js';

const rabbit = new RabbitClient();
const unreachablePort = await freePort();
const unavailable = await rabbitUnavailable();
after(() => rabbit.close());

sourceContract<AmqpSettings>({
  name: 'amqp (queue)',
  eventType: 'dev.nimbus.amqp.message',
  atLeastOnce: true,
  unavailable: async () => unavailable,
  settings: (unique) => parse({ queue: unique }),
  unreachable: (unique) => parse({ url: `amqp://127.0.0.1:${unreachablePort}`, queue: unique }),
  create: (context) => amqpSource.create!(context),
  publish: (settings, payload) => rabbit.sendToQueue(settings.queue!, payload),
  cleanup: (settings) => rabbit.admin((channel) => channel.deleteQueue(settings.queue!)).then(() => undefined),
});

function parse(settings: unknown): AmqpSettings {
  return amqpSource.settings.parse(settings);
}

describe('amqp settings', () => {
  test('defaults to the local broker; an exchange without a routing key binds #', () => {
    assert.deepEqual(parse({ queue: 'orders' }), { url: 'amqp://127.0.0.1:5672', queue: 'orders' });
    assert.equal(parse({ exchange: 'events' }).routingKey, undefined, 'the source binds # (DEFAULT_ROUTING_KEY)');
  });

  test('exactly one of queue or exchange; a routing key only with an exchange; no unknown fields', () => {
    for (const bad of [{}, { queue: 'q', exchange: 'x' }, { queue: 'q', routingKey: 'k' }, { queue: 'q', subject: 'x' }, { exchange: '' }]) {
      assert.equal(amqpSource.settings.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  test('a URL with credentials is refused with a message saying to use a secret, and without quoting it', () => {
    const result = amqpSource.settings.safeParse({ url: 'amqp://user:s3cret@broker:5672/', queue: 'q' });
    assert.equal(result.success, false);
    const message = result.error!.issues.map((issue) => issue.message).join('; ');
    assert.match(message, /secret/);
    assert.match(message, /--url-secret/);
    assert.doesNotMatch(message, /s3cret/);
  });

  test('a URL of another scheme is refused; urlSecret must be a secret name and is what secretNames gives', () => {
    assert.equal(amqpSource.settings.safeParse({ url: 'http://127.0.0.1:5672', queue: 'q' }).success, false);
    assert.equal(amqpSource.settings.safeParse({ urlSecret: 'not a name', queue: 'q' }).success, false);
    assert.deepEqual(amqpSource.secretNames(parse({ urlSecret: 'RABBIT_URL', queue: 'q' })), ['RABBIT_URL']);
    assert.deepEqual(amqpSource.secretNames(parse({ queue: 'q' })), []);
  });
});

describe('amqp event ids', () => {
  const message = (fields: Partial<Message['fields']>, properties: Record<string, unknown>, body = 'body'): Message => ({
    content: Buffer.from(body),
    fields: { deliveryTag: 1, redelivered: false, exchange: 'x', routingKey: 'k', ...fields },
    properties: { headers: {}, ...properties } as unknown as Message['properties'],
  });

  test('the messageId when the publisher set one', () => {
    assert.equal(amqpEventId(message({}, { messageId: 'order-17' })), 'order-17');
  });

  test('otherwise a hash that a redelivery keeps (tag, flag, delivery count) and the content changes', () => {
    const first = amqpEventId(message({}, { headers: { a: 1 }, timestamp: 10 }));
    assert.equal(amqpEventId(message({ deliveryTag: 9, redelivered: true }, { headers: { a: 1, 'x-delivery-count': 2 }, timestamp: 10 })), first);
    assert.notEqual(amqpEventId(message({}, { headers: { a: 1 }, timestamp: 10 }, 'other body')), first);
    assert.notEqual(amqpEventId(message({ routingKey: 'k2' }, { headers: { a: 1 }, timestamp: 10 })), first);
    assert.notEqual(amqpEventId(message({}, { headers: { a: 2 }, timestamp: 10 })), first);
    assert.notEqual(amqpEventId(message({}, { headers: { a: 1 }, timestamp: 11 })), first);
  });
});

describe('amqp source on RabbitMQ', { skip: unavailable !== undefined && process.env.CI !== 'true' ? unavailable : false }, () => {
  const running: AmqpSource[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const source of running) await source.stop();
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  });

  interface Start extends ContextParts {
    options?: AmqpSourceOptions;
  }
  const start = async (settings: AmqpSettings, how: Start = {}) => {
    const { options = {}, ...parts } = how;
    const { context, status } = sourceContext(settings, parts);
    const source = new AmqpSource(context, options);
    running.push(source);
    await source.start();
    return { source, status, trigger: context.trigger };
  };

  const topicExchange = async () => {
    const exchange = `nimbus-test-${randomUUID().slice(0, 8)}`;
    await rabbit.admin((channel) => channel.assertExchange(exchange, 'topic', { durable: false }));
    cleanups.push(() => rabbit.admin((channel) => channel.deleteExchange(exchange)));
    return exchange;
  };

  test('an exchange binding: messages with the routing key arrive through nimbus.trigger.<name>, others do not', async () => {
    const exchange = await topicExchange();
    const sink = new RecordingSink();
    const { status, trigger } = await start(parse({ exchange, routingKey: 'orders.*' }), { sink });
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(amqpTriggerQueue(trigger))));
    await status.waitFor('active');
    await rabbit.publish(exchange, 'orders.created', Buffer.from('{"n":1}'), {
      messageId: 'm-1', contentType: 'application/json', timestamp: 1_700_000_000, correlationId: 'c-1', headers: { tenant: 'acme', 'X-Not-A-Name': 'left out' },
    });
    await rabbit.publish(exchange, 'payments.created', Buffer.from('not for this trigger'));
    await rabbit.publish(exchange, 'orders.updated', Buffer.from('two'));
    // Delivery keeps the order, so a payments message would have come between the two.
    const events = await sink.waitFor(2);
    assert.deepEqual(events.map((e) => e.data.toString()), ['{"n":1}', 'two']);
    const [first] = events as [TriggerEvent];
    assert.equal(first.id, 'm-1');
    assert.equal(first.type, 'dev.nimbus.amqp.message');
    assert.equal(first.source, `${RABBITMQ_URL}/%2F/${exchange}`);
    assert.equal(first.subject, 'orders.created');
    assert.equal(first.contentType, 'application/json');
    assert.equal(first.time, 1_700_000_000_000);
    assert.deepEqual(first.extensions, {
      amqpredelivered: 'false', amqpexchange: exchange, amqproutingkey: 'orders.created', amqpcorrelationid: 'c-1', tenant: 'acme',
    });
    const declared = await rabbit.admin((channel) => channel.checkQueue(amqpTriggerQueue(trigger)));
    assert.equal(declared.queue, amqpTriggerQueue(trigger));
  });

  test("amqpRelease: a removed exchange trigger's queue is deleted; a queue the trigger named stays", async () => {
    const exchange = await topicExchange();
    const settings = parse({ exchange });
    const { source, status, trigger } = await start(settings);
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(amqpTriggerQueue(trigger))));
    await status.waitFor('active');
    await source.stop();
    await rabbit.publish(exchange, 'after.stop', Buffer.from('kept for the trigger until it is removed'));
    assert.equal((await rabbit.admin((channel) => channel.checkQueue(amqpTriggerQueue(trigger)))).messageCount, 1);
    assert.equal(await amqpRelease(settings, {}, trigger), undefined);
    await assert.rejects(rabbit.admin((channel) => channel.checkQueue(amqpTriggerQueue(trigger))), /404|NOT_FOUND/);
    assert.equal(await amqpRelease(settings, {}, trigger), undefined, 'releasing again is fine');

    const queue = `nimbus-test-${randomUUID().slice(0, 8)}`;
    await rabbit.admin((channel) => channel.assertQueue(queue, { durable: false }));
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(queue)));
    assert.equal(await amqpRelease(parse({ queue }), {}, trigger), undefined);
    assert.equal((await rabbit.admin((channel) => channel.checkQueue(queue))).queue, queue, "the user's queue stays");
    assert.match((await amqpRelease(parse({ url: `amqp://127.0.0.1:${unreachablePort}`, exchange }), {}, trigger)) ?? '', /cannot connect.*delete the queue nimbus\.trigger\./);
  });

  test('a trigger whose routing key changed drops its old binding (remembered in its state)', async () => {
    const exchange = await topicExchange();
    const trigger = `t-${randomUUID().slice(0, 8)}`;
    const state = new MemoryState();
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(amqpTriggerQueue(trigger))));
    const before = await start(parse({ exchange, routingKey: 'old.*' }), { trigger, state });
    await before.status.waitFor('active');
    await before.source.stop();

    const sink = new RecordingSink();
    const { status } = await start(parse({ exchange, routingKey: 'new.*' }), { sink, trigger, state });
    await status.waitFor('active');
    await rabbit.publish(exchange, 'old.one', Buffer.from('old key'));
    await rabbit.publish(exchange, 'new.one', Buffer.from('new key'));
    const events = await sink.waitFor(1);
    assert.deepEqual(events.map((e) => e.data.toString()), ['new key'], 'the old key is no longer bound (it would have come first)');
  });

  test('a trigger moved from an exchange that was since deleted to another one consumes from the new one', async () => {
    const gone = `nimbus-test-${randomUUID().slice(0, 8)}`;
    await rabbit.admin((channel) => channel.assertExchange(gone, 'topic', { durable: false }));
    const exchange = await topicExchange();
    const trigger = `t-${randomUUID().slice(0, 8)}`;
    const state = new MemoryState();
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(amqpTriggerQueue(trigger))));
    const before = await start(parse({ exchange: gone }), { trigger, state });
    await before.status.waitFor('active');
    await before.source.stop();
    await rabbit.admin((channel) => channel.deleteExchange(gone));

    const sink = new RecordingSink();
    const { status } = await start(parse({ exchange }), { sink, trigger, state });
    await status.waitFor('active');
    await rabbit.publish(exchange, 'any', Buffer.from('from the new exchange'));
    assert.equal((await sink.waitFor(1))[0]?.data.toString(), 'from the new exchange');
  });

  test('an exchange that does not exist: failing with the reason, then active once it is declared', async () => {
    const exchange = `nimbus-test-${randomUUID().slice(0, 8)}`;
    const sink = new RecordingSink();
    const { status, trigger } = await start(parse({ exchange }), { options: { reconnectDelayMs: 100, reconnectMaxDelayMs: 300 }, sink });
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(amqpTriggerQueue(trigger))));
    await status.waitFor('failing');
    assert.match(status.last?.reason ?? '', new RegExp(`no exchange '${exchange}'`));
    await rabbit.admin((channel) => channel.assertExchange(exchange, 'topic', { durable: false }));
    cleanups.push(() => rabbit.admin((channel) => channel.deleteExchange(exchange)));
    await status.waitFor('active');
    await rabbit.publish(exchange, 'any.key', Buffer.from('bound with #'));
    assert.equal((await sink.waitFor(1))[0]?.data.toString(), 'bound with #');
  });

  test('a message left unacknowledged when the source stopped is delivered again, with the same id, to the next source', async () => {
    const queue = `nimbus-test-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(queue)));
    let taken: TriggerEvent | undefined;
    let deliveryStarted!: () => void;
    const started = new Promise<void>((resolve) => (deliveryStarted = resolve));
    // A sink that takes the event and never says it is stored.
    const stuck: EventSink = {
      deliver: (events) => ((taken = events[0]), deliveryStarted(), new Promise<void>(() => undefined)),
      whenRoom: async () => undefined,
    };
    const first = await start(parse({ queue }), { options: { stopGraceMs: 200 }, sink: stuck });
    await first.status.waitFor('active');
    await rabbit.sendToQueue(queue, Buffer.from('not acked'));
    await started;
    await first.source.stop();

    const sink = new RecordingSink();
    const second = await start(parse({ queue }), { sink });
    await second.status.waitFor('active');
    const [again] = await sink.waitFor(1);
    assert.equal(again?.data.toString(), 'not acked');
    assert.equal(again?.id, taken?.id, 'the same id, so the sink drops it when the first delivery was stored after all');
    assert.equal(again?.extensions?.amqpredelivered, 'true');
    assert.equal(taken?.extensions?.amqpredelivered, 'false');
  });

  test('stop does not wait for room in a full sink; what it held is delivered to the next source', { timeout: 20_000 }, async () => {
    const queue = `nimbus-test-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(queue)));
    const full = new RecordingSink();
    // A grace longer than the test's timeout: stop must end because it stops, not because the grace ran out.
    const first = await start(parse({ queue }), { options: { stopGraceMs: 600_000 }, sink: full });
    await first.status.waitFor('active');
    full.full();
    await rabbit.sendToQueue(queue, Buffer.from('held while full'));
    // The broker has handed it to the source (no longer ready in the queue), which waits for room.
    await waitFor(async () => (await rabbit.admin((channel) => channel.checkQueue(queue))).messageCount === 0, 10_000, 'the message to reach the source');
    await first.source.stop();
    assert.equal(full.events.length, 0);

    const sink = new RecordingSink();
    await start(parse({ queue }), { sink });
    assert.equal((await sink.waitFor(1))[0]?.data.toString(), 'held while full');
  });

  test('urlSecret: the URL (credentials included) comes from the secret and wins over url; a missing secret is a failing reason', async () => {
    const queue = `nimbus-test-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(queue)));
    const settings = parse({ url: `amqp://127.0.0.1:${unreachablePort}`, urlSecret: 'RABBIT_URL', queue });
    const sink = new RecordingSink();
    const { status } = await start(settings, { sink, secrets: { RABBIT_URL: 'amqp://guest:guest@127.0.0.1:5672/' } });
    await status.waitFor('active');
    await rabbit.sendToQueue(queue, Buffer.from('through the secret'));
    const [event] = await sink.waitFor(1);
    assert.equal(event?.source, `${RABBITMQ_URL}/%2F/${queue}`, 'the source names host and port, never the credentials');

    const missing = await start(settings);
    await missing.status.waitFor('failing');
    assert.match(missing.status.last?.reason ?? '', /secret RABBIT_URL/);
  });

  test('a queue deleted while consumed: failing with the reason, then declared again and consumed', async () => {
    const queue = `nimbus-test-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(queue)));
    const sink = new RecordingSink();
    const { status } = await start(parse({ queue }), { options: { reconnectDelayMs: 100, reconnectMaxDelayMs: 300 }, sink });
    await status.waitFor('active');
    const reports = status.reports.length;
    await rabbit.admin((channel) => channel.deleteQueue(queue));
    await status.waitFor('failing');
    assert.match(status.last?.reason ?? '', /cancelled the consumer/);
    await status.waitFor('active');
    assert.ok(status.reports.length > reports + 1);
    await rabbit.sendToQueue(queue, Buffer.from('after the queue came back'));
    assert.equal((await sink.waitFor(1))[0]?.data.toString(), 'after the queue came back');
  });

  test('a connection the server closes: failing, then active again, and delivery resumes', async (t) => {
    const ctl = await rabbitmqctlWorks();
    if (ctl !== undefined) {
      if (process.env.CI === 'true') assert.fail(ctl);
      t.skip(ctl);
      return;
    }
    const queue = `nimbus-test-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => rabbit.admin((channel) => channel.deleteQueue(queue)));
    const sink = new RecordingSink();
    const { status, trigger } = await start(parse({ queue }), { options: { reconnectDelayMs: 100, reconnectMaxDelayMs: 500 }, sink });
    await status.waitFor('active');
    await rabbit.sendToQueue(queue, Buffer.from('before'));
    await sink.waitFor(1);
    assert.ok(await closeConnectionNamed(`nimbus trigger ${trigger}`), 'rabbitmqctl found and closed the connection');
    await status.waitFor('failing');
    assert.match(status.last?.reason ?? '', /CONNECTION_FORCED/);
    await status.waitFor('active');
    await rabbit.sendToQueue(queue, Buffer.from('after'));
    const events = await sink.waitFor(2);
    assert.deepEqual(events.map((e) => e.data.toString()), ['before', 'after']);
  });
});
