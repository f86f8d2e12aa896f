import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { AsyncAcceptor, queuedRecord } from '../../src/async/acceptor.js';
import { Callbacks } from '../../src/async/callbacks.js';
import { DeadLetters } from '../../src/async/dead-letters.js';
import { InvocationRunner } from '../../src/async/invocation-runner.js';
import { encodeStoredRequest, type StoredRequest } from '../../src/async/stored-request.js';
import { ManualClock } from '../../src/core/clock.js';
import type { InvocationResult } from '../../src/gateway/invoker.js';
import type { ResponseSink } from '../../src/gateway/forwarder.js';
import { SqliteQueue } from '../../src/queue/sqlite-queue.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { FunctionRecord } from '../../src/store/types.js';
import { sampleSpec } from '../store/store-fixture.js';

/** A runner over a fresh store and queue, whose function answers `ok` with 200 (or `status()`); `run` gets the parts. */
async function withRunner(
  run: (parts: { queue: SqliteQueue; store: SqliteStore; clock: ManualClock; acceptor: AsyncAcceptor; runner: InvocationRunner }) => Promise<void>,
  { deployed = true, status = () => 200, maxRetries }: { deployed?: boolean; status?: () => number; maxRetries?: number } = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-runner-'));
  const clock = new ManualClock(1_000_000);
  const queue = await SqliteQueue.open(dir, { clock, synchronous: 'normal' });
  const store = await SqliteStore.open(dir);
  try {
    const record: FunctionRecord = { spec: sampleSpec('fast', maxRetries === undefined ? {} : { maxRetries }), version: 1, createdAt: 0, updatedAt: 0, build: { buildId: 'b', entry: 'index.js' } };
    const invoker = {
      peek: () => (deployed ? record : undefined),
      lookup: async () => (deployed ? record : undefined),
      invoke: async (_fn: FunctionRecord, _req: unknown, sink: ResponseSink): Promise<InvocationResult> => {
        sink.writeHead(status(), { 'content-type': 'text/plain' });
        sink.write(Buffer.from('ok'));
        sink.end();
        return {} as InvocationResult;
      },
    };
    const invocations = store.invocations;
    const callbacks = new Callbacks({ queue, clock, allowed: () => true, random: () => 0.5, onGivenUp: () => undefined });
    const acceptor = new AsyncAcceptor({ queue, invocations, clock, onAccepted: () => undefined });
    const runner = new InvocationRunner({ queue, invocations, invoker: invoker as never, clock, callbacks, acceptor, logger: pino({ level: 'silent' }), random: () => 0.5 });
    await run({ queue, store, clock, acceptor, runner });
  } finally {
    await queue.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("an attempt that ends before the acceptor has stored its record still leaves the record ended, not queued", () =>
  withRunner(async ({ queue, store, clock, runner }) => {
    const invocations = store.invocations;
    const request: StoredRequest = { function: 'fast', method: 'POST', path: '/', headers: {}, body: Buffer.from('x'), acceptedAt: clock.now(), source: 'async' };
    const id = '01900000-0000-7000-8000-000000000001';
    // The acceptor writes the queue first: the dispatcher may lease the work before the record exists.
    await queue.enqueue([{ id, partition: 'fast', payload: encodeStoredRequest(request) }]);
    const [lease] = await queue.lease({ visibilityMs: 60_000, max: 1 });
    // The acceptor's record lands between the runner's first write (which finds no record) and its create.
    const realUpdate = invocations.update.bind(invocations);
    let raced = false;
    invocations.update = async (...args) => {
      const stored = await realUpdate(...args);
      if (!stored && !raced) {
        raced = true;
        await invocations.create([queuedRecord(id, request)]);
      }
      return stored;
    };
    await runner.run(lease!);
    assert.ok(raced, 'the race was set up');
    const after = await invocations.get(id);
    assert.equal(after?.status, 'succeeded');
    assert.equal(after?.attempts, 1);
    assert.equal(after?.response?.status, 200);
    assert.equal((await queue.depth('fast')).due + (await queue.depth('fast')).leased, 0, 'the work was acked');
  }));

test('a record the runner creates, because the acceptor had not stored it yet, keeps the idempotency key', () =>
  withRunner(async ({ queue, store, clock, acceptor, runner }) => {
    // The queue as the acceptor writes it, before its record: the key travels in the request.
    const id = '01900000-0000-7000-8000-000000000002';
    const request: StoredRequest = { function: 'fast', method: 'POST', path: '/', headers: {}, body: Buffer.alloc(0), acceptedAt: clock.now(), source: 'async', idempotencyKey: 'order-1' };
    await queue.enqueue([{ id, partition: 'fast', payload: encodeStoredRequest(request) }]);
    const [lease] = await queue.lease({ visibilityMs: 60_000, max: 1 });
    await runner.run(lease!);
    assert.equal(await store.invocations.findByIdempotencyKey('fast', 'order-1', 0), id);
    const repeat = await acceptor.accept({ function: 'fast', method: 'POST', path: '/', headers: {}, body: Buffer.alloc(0), source: 'async', idempotencyKey: 'order-1' });
    assert.deepEqual(repeat, { id, status: 'succeeded', repeated: true }, 'a repeat with the key answers the invocation that ran');
  }));

test('work for a removed function that runs before the acceptor has stored its record ends failed, not queued for ever', () =>
  withRunner(
    async ({ queue, store, clock, runner }) => {
      // A destination naming a removed function: the acceptor writes the queue, the dispatcher runs it, then the record lands.
      const request: StoredRequest = { function: 'fast', method: 'POST', path: '/', headers: {}, body: Buffer.from('{}'), acceptedAt: clock.now(), source: 'async' };
      const id = '01900000-0000-7000-8000-000000000003';
      await queue.enqueue([{ id, partition: 'fast', payload: encodeStoredRequest(request) }]);
      const [lease] = await queue.lease({ visibilityMs: 60_000, max: 1 });
      await runner.run(lease!);
      await store.invocations.create([queuedRecord(id, request)]);
      const after = await store.invocations.get(id);
      assert.equal(after?.status, 'failed');
      assert.equal(after?.error?.code, 'FUNCTION_NOT_FOUND');
      const depth = await queue.depth('fast');
      assert.equal(depth.due + depth.leased + depth.delayed, 0, 'the work was given up');
    },
    { deployed: false },
  ));

test('a redrive that lands between the dead record and the runner giving its lease up is kept and runs', () => {
  let status = 500;
  return withRunner(
    async ({ queue, store, clock, runner }) => {
      const invocations = store.invocations;
      const request: StoredRequest = { function: 'fast', method: 'POST', path: '/', headers: {}, body: Buffer.from('x'), acceptedAt: clock.now(), source: 'async' };
      const id = '01900000-0000-7000-8000-000000000004';
      await invocations.create([queuedRecord(id, request)]);
      await queue.enqueue([{ id, partition: 'fast', payload: encodeStoredRequest(request) }]);
      const [lease] = await queue.lease({ visibilityMs: 60_000, max: 1 });
      // The runner records the dead letter first (so a crash cannot lose it), then gives up its lease.
      const realGiveUp = queue.giveUp.bind(queue);
      let raced: Promise<{ status: string | undefined; redriven: string[]; gaveUp: boolean }> | undefined;
      queue.giveUp = (held) => {
        raced = (async () => {
          const status = (await invocations.get(id))?.status;
          const redriven = await new DeadLetters({ queue, invocations }).redrive('fast', 'all');
          return { status, redriven, gaveUp: await realGiveUp(held) };
        })();
        return raced.then(({ gaveUp }) => gaveUp);
      };
      await runner.run(lease!);
      const { status: before, redriven, gaveUp } = await raced!;
      assert.equal(before, 'dead', 'the dead letter is recorded before the lease is given up');
      assert.deepEqual(redriven, [id]);
      assert.equal(gaveUp, false, 'the late giveUp found its lease stale');
      assert.equal((await invocations.get(id))?.status, 'queued');
      assert.deepEqual(await queue.depth('fast'), { due: 1, delayed: 0, leased: 0 }, 'the redriven work is still queued');
      status = 200;
      const [again] = await queue.lease({ visibilityMs: 60_000, max: 1 });
      assert.equal(again?.attempt, 1, 'with a fresh retry budget');
      await runner.run(again!);
      const after = await invocations.get(id);
      assert.equal(after?.status, 'succeeded');
      assert.equal(after?.attempts, 1);
    },
    { status: () => status, maxRetries: 0 },
  );
});
