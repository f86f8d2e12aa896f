import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AsyncAcceptor } from '../../src/async/acceptor.js';
import { decodeStoredRequest } from '../../src/async/stored-request.js';
import { ManualClock } from '../../src/core/clock.js';
import { isNimbusError } from '../../src/core/errors.js';
import { SqliteQueue } from '../../src/queue/sqlite-queue.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { eventInvocationId, headerValue } from '../../src/triggers/cloudevent-request.js';
import { TriggerSink } from '../../src/triggers/event-sink.js';
import type { TriggerEvent } from '../../src/triggers/types.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

describe('TriggerSink (CloudEvents through the async acceptor)', () => {
  let dir: string;
  let store: SqliteStore;
  let queue: SqliteQueue;
  let clock: ManualClock;
  let exists = true;
  const sinkFor = (backlog = 1000) =>
    new TriggerSink(
      { acceptor: new AsyncAcceptor({ queue, invocations: store.invocations, clock, onAccepted: () => undefined }), queue, functionExists: () => exists, clock, backlog, pollMs: 100 },
      { name: 'orders', function: 'fulfil' },
    );
  const queued = async () => (await queue.lease({ visibilityMs: 60_000, max: 100 })).map((lease) => decodeStoredRequest(lease.item.payload));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimbus-sink-'));
    clock = new ManualClock(T0);
    store = await SqliteStore.open(dir);
    queue = await SqliteQueue.open(dir, { clock });
  });
  after(async () => {
    await queue.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('each event becomes one binary-mode CloudEvents POST / with source trigger, in order, body byte for byte', async () => {
    const data = Buffer.from([0, 1, 2, 0xff, 0x80, 10]);
    const events: TriggerEvent[] = [
      { id: 'seq-1', type: 'dev.nimbus.nats.message', source: 'nats://127.0.0.1:4222/orders', subject: 'orders.new', time: T0 - 5000, contentType: 'application/octet-stream', data, extensions: { natsreply: 'inbox.1', Bad_Name: 'dropped' } },
      { id: 'seq-2', type: 'dev.nimbus.nats.message', source: 'nats://127.0.0.1:4222/orders', data: Buffer.from('second') },
    ];
    await sinkFor().deliver(events);
    const [first, second] = await queued();
    assert.equal(first?.function, 'fulfil');
    assert.equal(first?.method, 'POST');
    assert.equal(first?.path, '/');
    assert.equal(first?.source, 'trigger');
    assert.equal(first?.trigger, 'orders');
    assert.deepEqual(first?.headers, {
      'ce-specversion': '1.0',
      'ce-id': 'seq-1',
      'ce-source': 'nats://127.0.0.1:4222/orders',
      'ce-type': 'dev.nimbus.nats.message',
      'ce-time': new Date(T0 - 5000).toISOString(),
      'ce-subject': 'orders.new',
      'ce-natsreply': 'inbox.1',
      'content-type': 'application/octet-stream',
      'x-nimbus-trigger': 'orders',
    });
    assert.deepEqual(first?.body, data);
    assert.equal(second?.headers['ce-time'], new Date(T0).toISOString(), 'the time of delivery when the event has none');
    assert.equal(second?.headers['content-type'], undefined);
    assert.equal(second?.body.toString(), 'second');
    const records = (await store.invocations.list({ function: 'fulfil', limit: 10 })).records;
    assert.deepEqual(records.map((r) => r.trigger), ['orders', 'orders']);
    await queue.remove('fulfil');
  });

  test('an event id this trigger delivered already is stored once', async () => {
    const sink = sinkFor();
    const event: TriggerEvent = { id: 'dup-1', type: 't', source: 's', data: Buffer.from('x') };
    await sink.deliver([event]);
    await sink.deliver([event, { ...event, id: 'dup-2' }]);
    assert.deepEqual((await queued()).map((r) => r.headers['ce-id']), ['dup-1', 'dup-2']);
    await queue.remove('fulfil');
  });

  test('a batch of 64 is stored in one queue commit, in the order given, and counted as delivered', async () => {
    const sink = sinkFor(1000);
    const events: TriggerEvent[] = Array.from({ length: 64 }, (_, i) => ({ id: `batch-${i}`, type: 't', source: 's', data: Buffer.from(String(i)) }));
    const commitsBefore = queue.commits;
    await sink.deliver(events);
    assert.equal(queue.commits - commitsBefore, 1, 'one group commit for the whole batch, not one per event');
    assert.deepEqual((await queued()).map((r) => r.body.toString()), events.map((_, i) => String(i)));
    assert.deepEqual(sink.counts, { delivered: 64, duplicate: 0, refused: 0 });
    const records = (await store.invocations.list({ function: 'fulfil', limit: 100 })).records;
    assert.equal(records.filter((r) => r.trigger === 'orders').length >= 64, true);
    await queue.remove('fulfil');
  });

  test('a redelivered batch stores nothing new and answers the first invocations; an id twice in one batch is stored once', async () => {
    const sink = sinkFor(1000);
    const events: TriggerEvent[] = Array.from({ length: 5 }, (_, i) => ({ id: `again-${i}`, type: 't', source: 's', data: Buffer.from(String(i)) }));
    await sink.deliver([...events, events[0]!]);
    assert.deepEqual(sink.counts, { delivered: 5, duplicate: 1, refused: 0 });
    const recordsBefore = (await store.invocations.list({ function: 'fulfil', limit: 1000 })).records.length;
    await sink.deliver(events);
    assert.deepEqual(sink.counts, { delivered: 5, duplicate: 6, refused: 0 });
    assert.deepEqual((await queued()).map((r) => r.headers['ce-id']), events.map((e) => e.id));
    assert.equal((await store.invocations.list({ function: 'fulfil', limit: 1000 })).records.length, recordsBefore);
    await queue.remove('fulfil');
  });

  test('an event accepted at the same time by a single accept and by a batch is stored once', async () => {
    const acceptor = new AsyncAcceptor({ queue, invocations: store.invocations, clock, onAccepted: () => undefined });
    const sink = new TriggerSink({ acceptor, queue, functionExists: () => true, clock, backlog: 1000, pollMs: 100 }, { name: 'orders', function: 'fulfil' });
    const event: TriggerEvent = { id: 'race-1', type: 't', source: 's', data: Buffer.from('x') };
    const single = acceptor.accept({ function: 'fulfil', method: 'POST', path: '/', headers: {}, body: Buffer.alloc(0), source: 'trigger', id: eventInvocationId('orders', 'race-1') });
    await Promise.all([single, sink.deliver([event, { ...event, id: 'race-2' }])]);
    assert.equal((await single).repeated, false);
    assert.deepEqual(sink.counts, { delivered: 1, duplicate: 1, refused: 0 });
    assert.equal((await queued()).length, 2);
    await queue.remove('fulfil');
  });

  test('an event redelivered after its invocation ran, or after a kill cut its acceptance short, is stored once', async () => {
    const sink = sinkFor();
    const ran: TriggerEvent = { id: 'ran-1', type: 't', source: 's', data: Buffer.from('x') };
    await sink.deliver([ran]);
    const [lease] = await queue.lease({ visibilityMs: 60_000 });
    assert.ok(lease);
    await queue.ack(lease); // it ran: the queue forgets it, its record stays
    await sink.deliver([ran]);
    assert.deepEqual(await queued(), [], 'not queued again once it ran');

    // A kill between the acceptor's queue write and its record write: queued, no record.
    const cut: TriggerEvent = { id: 'cut-1', type: 't', source: 's', data: Buffer.from('y') };
    const id = eventInvocationId('orders', cut.id);
    await queue.enqueue([{ id, partition: 'fulfil', payload: Buffer.from('queued before the kill') }]);
    assert.equal(await store.invocations.get(id), undefined);
    await sink.deliver([cut]);
    const again = await queue.lease({ visibilityMs: 60_000, max: 10 });
    assert.deepEqual(again.map((l) => [l.item.id, l.item.payload.toString()]), [[id, 'queued before the kill']], 'one item, the first');
    assert.equal((await store.invocations.get(id))?.status, 'queued', 'and its record');
    await queue.remove('fulfil');
  });

  test("whenRoom waits while the function's backlog is at the bound, and resolves once it drained", async () => {
    const sink = sinkFor(2);
    await sink.deliver([
      { id: 'b-1', type: 't', source: 's', data: Buffer.alloc(0) },
      { id: 'b-2', type: 't', source: 's', data: Buffer.alloc(0) },
    ]);
    let room = false;
    const waiting = sink.whenRoom().then(() => (room = true));
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(room, false, 'no room at the bound');
    const [lease] = await queue.lease({ visibilityMs: 60_000 });
    assert.ok(lease);
    await queue.ack(lease);
    for (let i = 0; i < 10 && !room; i++) {
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waiting;
    assert.equal(room, true);
    await queue.remove('fulfil');
  });

  test('close ends a wait for room at once and refuses later deliveries', async () => {
    const sink = sinkFor(1);
    await sink.deliver([{ id: 'c-1', type: 't', source: 's', data: Buffer.alloc(0) }]);
    const waiting = sink.whenRoom();
    await new Promise((resolve) => setImmediate(resolve));
    sink.close();
    await waiting;
    await assert.rejects(sink.deliver([{ id: 'c-2', type: 't', source: 's', data: Buffer.alloc(0) }]), (err: unknown) => isNimbusError(err) && err.code === 'SHUTTING_DOWN');
    await queue.remove('fulfil');
  });

  test('a batch to a removed function is refused as a whole (the source does not acknowledge it)', async () => {
    exists = false;
    try {
      const sink = sinkFor();
      const batch: TriggerEvent[] = ['r-1', 'r-2', 'r-3'].map((id) => ({ id, type: 't', source: 's', data: Buffer.alloc(0) }));
      await assert.rejects(sink.deliver(batch), (err: unknown) => isNimbusError(err) && err.code === 'FUNCTION_NOT_FOUND');
      assert.deepEqual(await queued(), [], 'no event of the batch is stored');
      assert.deepEqual(sink.counts, { delivered: 0, duplicate: 0, refused: 3 });
    } finally {
      exists = true;
    }
  });

  test('header values are percent-encoded as the CloudEvents HTTP binding says', () => {
    assert.equal(headerValue('plain-Value_1.2:/@'), 'plain-Value_1.2:/@');
    assert.equal(headerValue('a b"c%d'), 'a%20b%22c%25d');
    assert.equal(headerValue('/srv/ünï\ncode'), '/srv/%C3%BCn%C3%AF%0Acode');
  });
});
