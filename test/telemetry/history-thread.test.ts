/**
 * HistoryThread: batches, sweeps and a removed function's delete reach history.db through the
 * thread, in order, and are visible to the platform's own reading connection; a thread that ends
 * unexpectedly is reported and replaced at the next batch; once closed, nothing more is taken; the
 * thread runs at the lowest priority.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { batchOf } from '../../src/store/record-batch.js';
import { SqliteHistory } from '../../src/store/sqlite-history.js';
import { HistoryThread } from '../../src/telemetry/history-thread.js';
import { historyRecord } from '../store/history-samples.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1);

async function withThread(fn: (thread: HistoryThread, reader: SqliteHistory, errors: string[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-thread-'));
  const errors: string[] = [];
  const reader = await SqliteHistory.open(dir);
  const thread = await HistoryThread.start(dir, (message) => errors.push(message));
  try {
    await fn(thread, reader, errors);
  } finally {
    await thread.close();
    await reader.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('batches, sweeps and deletes go through the thread in order and are read on the reading connection', () =>
  withThread(async (thread, reader) => {
    const ids = (records: Array<{ id: string }>) => records.map((r) => r.id);
    assert.equal(await thread.append(batchOf([historyRecord('a', T0, { function: 'one' }), historyRecord('b', T0 + HOUR, { function: 'two' })])!), 2);
    assert.deepEqual(ids(await reader.list({ sources: ['http'], limit: 10 })), ['b', 'a']);
    assert.deepEqual(await reader.get('a'), historyRecord('a', T0, { function: 'one' }));
    // Not awaited one by one: the thread serves them in the order asked.
    const [, removed] = await Promise.all([thread.append(batchOf([historyRecord('c', T0 + 2 * HOUR, { function: 'one' })])!), thread.deleteFunction('one')]);
    assert.equal(removed, 2, 'the delete came after the batch that added c');
    assert.deepEqual(ids(await reader.list({ sources: ['http'], limit: 10 })), ['b']);
    assert.equal(await thread.sweep(T0 + 3 * HOUR, { retainMs: HOUR, maxRecords: 1000, ledgerRetainMs: 400 * 24 * HOUR }), 1);
    assert.deepEqual(ids(await reader.list({ sources: ['http'], limit: 10 })), []);
    assert.equal((await reader.usage({ since: T0, until: T0 + 3 * HOUR, by: 'function' })).total.invocations, 3, 'the ledger keeps what was removed');
  }));

test('a thread that ends unexpectedly is reported, and the next batch starts a new one', () =>
  withThread(async (thread, reader, errors) => {
    const worker = (thread as unknown as { running: { worker: Worker } }).running.worker;
    await worker.terminate();
    assert.match(errors.join('\n'), /the history thread ended/);
    await thread.append(batchOf([historyRecord('after', T0)])!);
    assert.equal((await reader.get('after'))?.id, 'after');
  }));

test("an appended batch's memory comes back from the thread once written, whole", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-thread-'));
  const returned: Array<{ numbers: ArrayBuffer; text: ArrayBuffer }> = [];
  try {
    const thread = await HistoryThread.start(dir, () => undefined, (buffers) => returned.push(buffers));
    const batch = batchOf([historyRecord('a', T0), historyRecord('b', T0 + 1)])!;
    const sizes = [batch.numbers.buffer.byteLength, batch.text.buffer.byteLength];
    assert.equal(await thread.append(batch), 2);
    assert.equal(batch.numbers.buffer.byteLength, 0, 'the batch went to the thread, not a copy');
    assert.equal(returned.length, 1);
    assert.deepEqual([returned[0]!.numbers.byteLength, returned[0]!.text.byteLength], sizes);
    await thread.sweep(T0, { retainMs: HOUR, maxRecords: 1000, ledgerRetainMs: HOUR });
    assert.equal(returned.length, 1, 'only appends give memory back');
    await thread.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the thread runs at the lowest priority, the rest of the process at its own', { skip: process.platform !== 'linux' && 'per-thread nice values are read from /proc on Linux' }, () =>
  withThread(async () => {
    const nice = (task: string) => Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const values = readdirSync('/proc/self/task').map(nice);
    assert.equal(values.filter((value) => value === 19).length, 1, `one thread at nice 19: ${values.join(' ')}`);
    assert.equal(nice(String(process.pid)), 0, 'the event loop keeps its priority');
  }));

test('a closed thread takes nothing more', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-history-thread-'));
  try {
    const thread = await HistoryThread.start(dir, () => undefined);
    const pending = thread.append(batchOf([historyRecord('last', T0)])!);
    await thread.close();
    assert.equal(await pending, 1, 'what was asked before close is written');
    await assert.rejects(thread.append(batchOf([historyRecord('late', T0)])!), /closed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
