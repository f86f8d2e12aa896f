/**
 * HistoryWriter: records are written a batch at a time (every flush interval, or once a batch is
 * full), one append per batch, at close, and a batch the database refuses is reported and dropped,
 * as is one beyond what may wait for a thread that is behind.
 * And the record made of an event: billed duration rounded up, GB-seconds, status by the one rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import type { HistoryRecord } from '../../src/store/history-types.js';
import { RecordBatchReader } from '../../src/store/record-batch.js';
import { FLUSH_INTERVAL_MS, HistoryWriter, MAX_BATCH, MAX_WAITING_BATCHES, type AppendBatch } from '../../src/telemetry/history-writer.js';
import { historyRecordOf } from '../../src/telemetry/metering.js';
import { endedEvent } from './ended-samples.js';

/** An append that keeps the batches it was given, as records (or refuses them while `refuse` is set). */
function recordingHistory() {
  const batches: HistoryRecord[][] = [];
  const state = { refuse: false };
  const history: AppendBatch = async (batch) => {
    if (state.refuse) throw new Error('disk full');
    const reader = new RecordBatchReader(batch);
    batches.push(Array.from({ length: reader.count }, (_, i) => reader.record(i)));
  };
  return { history, batches, state };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('HistoryWriter', () => {
  test('buffers until the flush interval, then writes the buffered records in one append', async () => {
    const clock = new ManualClock(0);
    const { history, batches } = recordingHistory();
    const writer = new HistoryWriter(history, clock, () => assert.fail('no error expected'));
    writer.start();
    for (let i = 0; i < 5; i++) writer.record(endedEvent({ invocationId: `i${i}` }));
    await turn();
    assert.equal(batches.length, 0, 'nothing written on the invocations path');
    clock.advance(FLUSH_INTERVAL_MS);
    await writer.flush();
    assert.deepEqual(batches.map((b) => b.map((r) => r.id)), [['i0', 'i1', 'i2', 'i3', 'i4']]);
    clock.advance(FLUSH_INTERVAL_MS);
    await writer.flush();
    assert.equal(batches.length, 1, 'an empty buffer writes nothing');
    await writer.close();
  });

  test('batches beyond MAX_WAITING_BATCHES waiting for a thread that is behind are dropped and reported; the rest are written once it catches up', async () => {
    const clock = new ManualClock(0);
    let release!: () => void;
    const behind = new Promise<void>((resolve) => (release = resolve));
    const written: number[] = [];
    const lost: Array<[string, number]> = [];
    const writer = new HistoryWriter(async (batch) => {
      await behind;
      written.push(batch.count);
    }, clock, (err, count) => lost.push([(err as Error).message, count]));
    for (let i = 0; i < MAX_WAITING_BATCHES + 2; i++) {
      writer.record(endedEvent({ invocationId: `i${i}` }));
      writer.record(endedEvent({ invocationId: `j${i}` }));
      void writer.flush();
    }
    assert.deepEqual(lost, [
      [`the history thread is ${MAX_WAITING_BATCHES} batches behind; this batch is dropped`, 2],
      [`the history thread is ${MAX_WAITING_BATCHES} batches behind; this batch is dropped`, 2],
    ]);
    release();
    await writer.flush();
    assert.equal(written.length, MAX_WAITING_BATCHES);
    writer.record(endedEvent({ invocationId: 'caught-up' }));
    await writer.flush();
    assert.equal(written.length, MAX_WAITING_BATCHES + 1, 'taken again once the thread caught up');
    assert.equal(lost.length, 2);
  });

  test('a full batch is written at the next turn without waiting for the interval', async () => {
    const clock = new ManualClock(0);
    const { history, batches } = recordingHistory();
    const writer = new HistoryWriter(history, clock, () => assert.fail('no error expected'));
    for (let i = 0; i < MAX_BATCH; i++) writer.record(endedEvent({ invocationId: `i${i}` }));
    await turn();
    await turn();
    assert.equal(batches.length, 1);
    assert.equal(batches[0]!.length, MAX_BATCH);
    await writer.close();
  });

  test('close writes what is left; a refused batch is reported with its size and dropped', async () => {
    const clock = new ManualClock(0);
    const { history, batches, state } = recordingHistory();
    const errors: number[] = [];
    const writer = new HistoryWriter(history, clock, (_err, lost) => errors.push(lost));
    state.refuse = true;
    writer.record(endedEvent({ invocationId: 'lost-1' }));
    writer.record(endedEvent({ invocationId: 'lost-2' }));
    await writer.flush();
    assert.deepEqual(errors, [2]);
    state.refuse = false;
    writer.record(endedEvent({ invocationId: 'kept' }));
    await writer.close();
    assert.deepEqual(batches.map((b) => b.map((r) => r.id)), [['kept']]);
  });
});

describe('the record of an invocation', () => {
  test('bills start and handler time rounded up to the millisecond, in GB-seconds of its memory size', () => {
    const record = historyRecordOf(endedEvent({ coldStart: true, timings: { queueMs: 3, startMs: 40.2, handlerMs: 200.3, totalMs: 243.5 }, cpuMs: 12.5 }));
    assert.equal(record.billedMs, 241, 'ceil(40.2 + 200.3): queueing is not billed');
    assert.equal(record.gbSeconds, 0.25 * 0.241);
    assert.equal(record.durationMs, 243.5);
    assert.equal(record.endedAt, record.startedAt + 244);
    assert.equal(record.cpuMs, 12.5);
    assert.equal(record.status, 'succeeded');
    assert.equal(record.coldStart, true);
    assert.equal(record.path, '/x?y=1');
  });

  test('fails on a platform error, a caller gone, or a status of 400 and above', () => {
    assert.equal(historyRecordOf(endedEvent({ status: 404 })).status, 'failed');
    assert.equal(historyRecordOf(endedEvent({ status: 399 })).status, 'succeeded');
    const timeout = historyRecordOf(endedEvent({ outcome: 'error', status: undefined, error: { code: 'FUNCTION_TIMEOUT', retryable: true } }));
    assert.equal(timeout.status, 'failed');
    assert.equal(timeout.errorCode, 'FUNCTION_TIMEOUT');
    assert.equal(historyRecordOf(endedEvent({ outcome: 'abandoned', status: undefined })).status, 'failed');
    assert.equal(historyRecordOf(endedEvent({ timings: { queueMs: 5, startMs: 0, handlerMs: 0, totalMs: 5 }, outcome: 'error' })).billedMs, 0, 'no instance served it: nothing billed');
  });
});
