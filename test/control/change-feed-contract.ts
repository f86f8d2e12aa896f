import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChangeEvent, ChangeFeed } from '../../src/control/change-feed.js';
import type { FunctionRecord } from '../../src/store/types.js';

const record: FunctionRecord = {
  spec: {
    name: 'hello',
    runtime: 'node',
    handler: 'index.js',
    env: { GREETING: 'hi' },
    secrets: ['DB_PASSWORD'],
    timeoutMs: 30_000,
    memoryMb: 256,
    idleTimeoutMs: 300_000,
    concurrency: 64,
    maxInstances: 10,
    minInstances: 0,
    network: 'outbound',
    auth: 'key',
    packageSha256: 'a'.repeat(64),
  },
  version: 3,
  build: { buildId: 'b1', entry: '__nimbus_bundle.cjs', export: 'default' },
  createdAt: 1000,
  updatedAt: 3000,
};

/** One event of each kind. */
export const SAMPLE_EVENTS: ChangeEvent[] = [
  { type: 'function.deployed', record },
  { type: 'function.removed', name: 'hello' },
  { type: 'secret.changed', name: 'DB_PASSWORD', functions: ['a', 'hello'] },
  { type: 'keys.changed', function: 'hello' },
  {
    type: 'trigger.changed',
    record: {
      name: 'every-minute',
      function: 'hello',
      type: 'cron',
      settings: { schedule: '* * * * *', timezone: 'Europe/Zurich', data: { a: [1, 'b'] } },
      state: 'paused',
      createdAt: 1000,
      updatedAt: 2000,
      status: { state: 'failing', error: 'down', since: 1500 },
    },
  },
  { type: 'trigger.removed', name: 'every-minute' },
];

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * The behaviour every {@link ChangeFeed} must have, as seen from one process. `make` answers a new
 * feed with no subscribers.
 */
export function changeFeedContract(name: string, make: () => ChangeFeed | Promise<ChangeFeed>): void {
  describe(`ChangeFeed contract: ${name}`, () => {
    test('events are plain data: each kind survives JSON unchanged', () => {
      for (const event of SAMPLE_EVENTS) assert.deepEqual(JSON.parse(JSON.stringify(event)), event);
    });

    test('each subscriber gets the events of its kind only, equal to what was published', async () => {
      const feed = await make();
      const seen: Record<string, ChangeEvent[]> = {};
      for (const event of SAMPLE_EVENTS) feed.subscribe(event.type, (e: ChangeEvent) => void (seen[event.type] ??= []).push(e));
      for (const event of SAMPLE_EVENTS) await feed.publish(event);
      for (const event of SAMPLE_EVENTS) assert.deepEqual(seen[event.type], [event], event.type);
    });

    test('every subscriber of a kind is told, in the order they subscribed', async () => {
      const feed = await make();
      const order: string[] = [];
      feed.subscribe('function.removed', () => void order.push('first'));
      feed.subscribe('function.removed', () => void order.push('second'));
      feed.subscribe('function.removed', ({ name }) => void order.push(`third ${name}`));
      await feed.publish({ type: 'function.removed', name: 'x' });
      assert.deepEqual(order, ['first', 'second', 'third x']);
    });

    test('publish waits for async handlers, and a slow handler does not hold back the others', async () => {
      const feed = await make();
      const slow = gate();
      const steps: string[] = [];
      feed.subscribe('function.removed', async () => {
        await slow.opened;
        steps.push('slow done');
      });
      feed.subscribe('function.removed', () => void steps.push('quick'));
      let settled = false;
      const published = feed.publish({ type: 'function.removed', name: 'x' }).then(() => (settled = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(steps, ['quick'], 'the second handler ran while the first waited');
      assert.equal(settled, false, 'publish waits for the slow handler');
      slow.open();
      await published;
      assert.deepEqual(steps, ['quick', 'slow done']);
    });

    test('a failing handler does not keep the others from running; publish then rejects with its error', async () => {
      const feed = await make();
      const ran: string[] = [];
      feed.subscribe('keys.changed', () => {
        throw new Error('sync failure');
      });
      feed.subscribe('keys.changed', () => void ran.push('after a sync failure'));
      feed.subscribe('keys.changed', async () => {
        await Promise.resolve();
        ran.push('async');
      });
      await assert.rejects(feed.publish({ type: 'keys.changed', function: 'f' }), /sync failure/);
      assert.deepEqual(ran, ['after a sync failure', 'async']);

      const other = await make();
      other.subscribe('keys.changed', async () => Promise.reject(new Error('one')));
      other.subscribe('keys.changed', async () => Promise.reject(new Error('two')));
      await assert.rejects(other.publish({ type: 'keys.changed', function: 'f' }), (err: unknown) => err instanceof Error);
    });

    test('publishing with no subscribers resolves', async () => {
      const feed = await make();
      for (const event of SAMPLE_EVENTS) await feed.publish(event);
    });

    test('unsubscribing stops delivery to that handler only; twice is harmless', async () => {
      const feed = await make();
      const seen: string[] = [];
      const handler = ({ name }: { name: string }) => void seen.push(name);
      const first = feed.subscribe('function.removed', handler);
      feed.subscribe('function.removed', handler);
      await feed.publish({ type: 'function.removed', name: 'a' });
      first();
      first();
      await feed.publish({ type: 'function.removed', name: 'b' });
      assert.deepEqual(seen, ['a', 'a', 'b'], 'the same handler subscribed twice is told twice, then once');
    });

    test('a handler that subscribes while an event is delivered gets the later events only', async () => {
      const feed = await make();
      const late: string[] = [];
      let subscribed = false;
      feed.subscribe('function.removed', () => {
        if (subscribed) return;
        subscribed = true;
        feed.subscribe('function.removed', ({ name }) => void late.push(name));
      });
      await feed.publish({ type: 'function.removed', name: 'during' });
      await feed.publish({ type: 'function.removed', name: 'after' });
      assert.deepEqual(late, ['after']);
    });
  });
}
