/**
 * The contract every message-broker trigger source passes (NATS, JetStream, MQTT, AMQP, Redis
 * Streams), against the real broker on this machine's loopback. The harness says how to make the
 * source and how to publish to it; the suite checks what the platform relies on: exact bytes and
 * CloudEvents attributes, order, acknowledgement only after a delivery resolved (for at-least-once
 * sources), back-pressure, a broker that cannot be reached, and a clean stop.
 *
 * When the broker is not reachable the suite skips with the reason, except under CI=true, where it
 * fails: CI starts every broker.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { SourceContext, TriggerSource } from '../../src/triggers/types.js';
import { RecordingSink, sourceContext } from './recording-sink.js';

/** What the suite needs from one source. */
export interface SourceHarness<Settings> {
  /** E.g. `nats (core)`. */
  name: string;
  /** The `ce-type` its events carry, e.g. `dev.nimbus.nats.message`. */
  eventType: string;
  /** True when an event refused by the sink is delivered again (JetStream, MQTT QoS 1, AMQP, Redis). */
  atLeastOnce: boolean;
  /** Undefined when the broker answers; otherwise why not (e.g. `nothing listens on 127.0.0.1:4222`). */
  unavailable(): Promise<string | undefined>;
  /** Settings for a fresh subject/topic/queue/stream named after `unique` (nothing else uses it). */
  settings(unique: string): Settings | Promise<Settings>;
  /** Settings naming a broker that does not answer (e.g. a closed port on 127.0.0.1). */
  unreachable(unique: string): Settings;
  create(context: SourceContext<Settings>): TriggerSource;
  /** Publishes one message with this payload; resolves once the broker has taken it. */
  publish(settings: Settings, payload: Buffer): Promise<void>;
  /** Removes what `settings` made on the broker (streams, queues, keys). */
  cleanup?(settings: Settings): Promise<void>;
}


/** Runs the contract for one source. */
export function sourceContract<Settings>(harness: SourceHarness<Settings>): void {
  describe(`trigger source contract: ${harness.name}`, async () => {
    const reason = await harness.unavailable();
    if (reason !== undefined && process.env.CI === 'true') {
      test(`${harness.name} broker is reachable (CI starts it)`, () => assert.fail(reason));
      return;
    }
    const started: Array<{ source: TriggerSource; settings: Settings }> = [];
    after(async () => {
      for (const { source, settings } of started) {
        await source.stop().catch(() => undefined);
        await harness.cleanup?.(settings).catch(() => undefined);
      }
    });

    const start = async (settings: Settings, sink = new RecordingSink()) => {
      const { context, status } = sourceContext(settings, { sink });
      const source = harness.create(context);
      started.push({ source, settings });
      await source.start();
      return { source, sink, status };
    };
    const fresh = async () => harness.settings(`nimbus-${randomUUID().slice(0, 8)}`);
    const skip = reason === undefined ? false : `${harness.name}: ${reason}`;

    test('a message arrives as one event with its exact bytes and CloudEvents attributes', { skip }, async () => {
      const settings = await fresh();
      const { sink, status } = await start(settings);
      await status.waitFor('active');
      const payload = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0x7f, 0x80]);
      await harness.publish(settings, payload);
      const [event] = await sink.waitFor(1);
      assert.ok(event);
      assert.deepEqual(event.data, payload, 'payload byte for byte');
      assert.equal(event.type, harness.eventType);
      assert.ok(event.id.length > 0, 'an id');
      assert.ok(event.source.length > 0, 'a source');
      assert.ok(event.subject && event.subject.length > 0, 'a subject');
      for (const name of Object.keys(event.extensions ?? {})) assert.match(name, /^[a-z0-9]{1,20}$/, `extension name ${name}`);
    });

    test('messages arrive in the order they were published, each once, with distinct ids', { skip }, async () => {
      const settings = await fresh();
      const { sink, status } = await start(settings);
      await status.waitFor('active');
      for (let i = 0; i < 25; i++) await harness.publish(settings, Buffer.from(`message ${i}`));
      const events = await sink.waitFor(25);
      assert.deepEqual(events.map((e) => e.data.toString()), Array.from({ length: 25 }, (_, i) => `message ${i}`));
      assert.equal(new Set(events.map((e) => e.id)).size, 25);
    });

    test('an event the sink refused is delivered again with the same id (at-least-once)', { skip: skip || (!harness.atLeastOnce && 'at-most-once source') }, async () => {
      const settings = await fresh();
      const sink = new RecordingSink();
      const { status } = await start(settings, sink);
      await status.waitFor('active');
      sink.refuse(1);
      await harness.publish(settings, Buffer.from('refused once'));
      const [event] = await sink.waitFor(1, 30_000);
      assert.ok(event);
      assert.equal(event.data.toString(), 'refused once');
      assert.ok(sink.calls >= 2, 'the refused delivery was tried again');
    });

    test('while the sink has no room nothing is delivered; everything comes once there is room', { skip }, async () => {
      const settings = await fresh();
      const sink = new RecordingSink();
      const { status } = await start(settings, sink);
      await status.waitFor('active');
      await harness.publish(settings, Buffer.from('before'));
      await sink.waitFor(1);
      sink.full();
      // The source may already hold one message it pulled before it saw the sink full.
      for (let i = 0; i < 5; i++) await harness.publish(settings, Buffer.from(`held ${i}`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(sink.events.length <= 2, `at most one message slipped through, got ${sink.events.length - 1}`);
      sink.makeRoom();
      const events = await sink.waitFor(6);
      assert.deepEqual(events.slice(1).map((e) => e.data.toString()), Array.from({ length: 5 }, (_, i) => `held ${i}`));
    });

    test('a broker that cannot be reached: start resolves, the source says failing with a reason, stop resolves', { skip }, async () => {
      const { source, status } = await start(harness.unreachable(`nimbus-${randomUUID().slice(0, 8)}`));
      await status.waitFor('failing');
      assert.ok((status.last?.reason ?? '').length > 0, 'a reason');
      await source.stop();
    });

    test('after stop no more events are delivered', { skip }, async () => {
      const settings = await fresh();
      const { source, sink, status } = await start(settings);
      await status.waitFor('active');
      await harness.publish(settings, Buffer.from('first'));
      await sink.waitFor(1);
      await source.stop();
      await harness.publish(settings, Buffer.from('after stop'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(sink.events.map((e) => e.data.toString()), ['first']);
    });
  });
}
