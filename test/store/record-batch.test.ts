/**
 * RecordBatch: records packed into numbers, UTF-8 text and a dictionary read back exactly as
 * given (absent optional fields stay absent, any Unicode survives), a selection of rows keeps its
 * records whole, and the ledger's figures are added from the packed form.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordBatchBuilder, RecordBatchReader, batchOf } from '../../src/store/record-batch.js';
import { historyRecord } from './history-samples.js';

const T0 = Date.UTC(2026, 11, 1);

test('records read back as they were packed, optional fields and any Unicode included', () => {
  const records = [
    historyRecord('a', T0, { path: '/ünïcode/€?q=😀', method: 'PATCH' }),
    historyRecord('b', T0 + 1, { function: 'other', cpuMs: undefined, httpStatus: undefined, outcome: 'error', status: 'failed', errorCode: 'FUNCTION_TIMEOUT' }),
    historyRecord('c'.repeat(300), T0 + 2, { source: 'async', attempt: 3, coldStart: true, path: '' }),
  ];
  // An absent field reads back absent, not as a key holding undefined.
  delete records[1]!.cpuMs;
  delete records[1]!.httpStatus;
  const reader = new RecordBatchReader(batchOf(records)!);
  assert.equal(reader.count, 3);
  assert.deepEqual(Array.from({ length: 3 }, (_, i) => reader.record(i)), records);
  assert.equal('cpuMs' in reader.record(1), false, 'an absent field stays absent');
  assert.equal(reader.id(2), 'c'.repeat(300));
  assert.equal(reader.function(1), 'other');
  assert.deepEqual([...reader.rowsByFunction()], [['fn', [0, 2]], ['other', [1]]]);
});

test('text is exact on both sides of the short-ASCII fast path: its length bound, latin-1 and a late non-ASCII character', () => {
  // Short ASCII strings are copied byte by byte; anything else goes through Buffer.write. A string
  // that turns out not to be ASCII part way must still come back whole.
  const texts = ['/', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(129), `/${'a'.repeat(100)}€`, '/caf\u00e9', '\u007f\u0080', `/${'b'.repeat(200)}ü`];
  const records = texts.map((path, i) => historyRecord(path.length > 1 ? path : `id-${i}`, T0 + i, { path }));
  const reader = new RecordBatchReader(batchOf(records)!);
  assert.deepEqual(Array.from({ length: records.length }, (_, i) => [reader.id(i), reader.record(i).path]), records.map((r) => [r.id, r.path]));
});

test('a batch grows past its first size, and take starts a new one', () => {
  const builder = new RecordBatchBuilder();
  const records = Array.from({ length: 1000 }, (_, i) => historyRecord(`r${i}`, T0 + i, { path: `/${'x'.repeat(i % 50)}` }));
  records.forEach((record) => builder.add(record));
  assert.equal(builder.length, 1000);
  const reader = new RecordBatchReader(builder.take()!);
  assert.deepEqual(reader.record(999), records[999]);
  assert.equal(builder.length, 0);
  assert.equal(builder.take(), undefined, 'an empty builder gives no batch');
});

test("a batch's memory given back is filled by the next batch, with nothing of the old records left in it", () => {
  const builder = new RecordBatchBuilder();
  const first = Array.from({ length: 300 }, (_, i) => historyRecord(`old-${i}`, T0 + i, { path: `/old/${'o'.repeat(i % 40)}`, errorCode: 'FUNCTION_TIMEOUT', cpuMs: 3 }));
  first.forEach((record) => builder.add(record));
  const written = builder.take()!;
  const numbers = written.numbers.buffer as ArrayBuffer;
  const text = written.text.buffer as ArrayBuffer;
  builder.recycle(numbers, text);
  const second = Array.from({ length: 200 }, (_, i) => historyRecord(`n${i}`, T0 + 1000 + i, { function: 'other', path: '/' }));
  delete second[0]!.cpuMs;
  second.forEach((record) => builder.add(record));
  const next = builder.take()!;
  assert.equal(next.numbers.buffer, numbers, 'the numbers fill the memory given back');
  assert.equal(next.text.buffer, text, 'so does the text');
  const reader = new RecordBatchReader(next);
  assert.equal(reader.count, 200);
  assert.deepEqual(Array.from({ length: 200 }, (_, i) => reader.record(i)), second);
  assert.deepEqual(next.dict.includes('FUNCTION_TIMEOUT'), false, 'the dictionary starts afresh');
  // Without memory given back, the batch after gets fresh memory.
  builder.add(second[1]!);
  assert.notEqual(builder.take()!.numbers.buffer, numbers);
});

test('a selection keeps whole records, in the order asked, and survives being stored as bytes', () => {
  const records = Array.from({ length: 5 }, (_, i) => historyRecord(`s${i}`, T0 + i, { path: `/é${i}` }));
  const selected = new RecordBatchReader(new RecordBatchReader(batchOf(records)!).select([4, 1]));
  assert.deepEqual([selected.record(0), selected.record(1)], [records[4], records[1]]);
  const { batch } = selected;
  const stored = RecordBatchReader.stored(Buffer.from(batch.numbers.buffer, batch.numbers.byteOffset, batch.numbers.byteLength), batch.text, JSON.stringify(batch.dict));
  assert.deepEqual(stored.record(0), records[4]);
});

test("the ledger's figures are added from the packed records", () => {
  const reader = new RecordBatchReader(batchOf([
    historyRecord('a', T0, { gbSeconds: 0.5, cpuMs: 1500, billedMs: 2000, bytesIn: 1, bytesOut: 2 }),
    historyRecord('b', T0, { gbSeconds: 0.25, cpuMs: undefined, billedMs: 1000, status: 'failed' }),
  ])!);
  const sum = { invocations: 0, errors: 0, gbSeconds: 0, cpuSeconds: 0, billedMs: 0, bytesIn: 0, bytesOut: 0 };
  reader.addUsage(0, sum);
  reader.addUsage(1, sum);
  assert.deepEqual(sum, { invocations: 2, errors: 1, gbSeconds: 0.75, cpuSeconds: 1.5, billedMs: 3000, bytesIn: 11, bytesOut: 102 });
});
