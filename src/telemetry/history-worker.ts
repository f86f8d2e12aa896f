/**
 * The thread of a {@link HistoryThread}: the one connection that writes history.db. It appends
 * each batch of records (records and ledger in one transaction), and runs
 * the sweeps and a removed function's delete, in the order they were asked for. Its commits, and
 * the WAL checkpoints SQLite runs inside them, take this thread's time, never the event loop's.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { HistoryRetention } from '../store/history-types.js';
import { SqliteHistory } from '../store/sqlite-history.js';
import type { RecordBatch } from '../store/record-batch.js';

/** What the owner passes in `workerData`. */
export interface HistoryWorkerData {
  dataDir: string;
}

/** One request to the thread; `seq` pairs it with its reply. */
export type HistoryThreadRequest =
  | { seq: number; kind: 'append'; batch: RecordBatch }
  | { seq: number; kind: 'sweep'; now: number; retention: HistoryRetention }
  | { seq: number; kind: 'deleteFunction'; fn: string }
  | { seq: number; kind: 'close' };

/**
 * The reply to a request (`seq` 0: the thread has opened the database, or could not). An append's
 * reply gives the batch's memory back (`returned`), written or not, for the next batch to fill.
 */
export type HistoryThreadReply =
  | { seq: number; ok: true; value: number; returned?: ReturnedBuffers }
  | { seq: number; ok: false; error: string; returned?: ReturnedBuffers };

/** The buffers of an appended batch, transferred back to the platform. */
export interface ReturnedBuffers {
  numbers: ArrayBuffer;
  text: ArrayBuffer;
}

const port = parentPort!;

const { dataDir } = workerData as HistoryWorkerData;

async function serve(history: SqliteHistory, request: HistoryThreadRequest): Promise<number> {
  switch (request.kind) {
    case 'append':
      await history.appendBatch(request.batch);
      return request.batch.count;
    case 'sweep':
      return history.sweep(request.now, request.retention);
    case 'deleteFunction':
      return history.deleteFunction(request.fn);
    case 'close':
      await history.close();
      return 0;
  }
}

const reply = (seq: number, run: () => Promise<number>, returned?: ReturnedBuffers): Promise<void> => {
  // Nothing here holds on to a batch once it is written: its buffers can go back, untouched by a copy.
  const transfer = returned ? [returned.numbers, returned.text] : [];
  const extra = returned ? { returned } : {};
  return run().then(
    (value) => port.postMessage({ seq, ok: true, value, ...extra } satisfies HistoryThreadReply, transfer),
    (err: unknown) => port.postMessage({ seq, ok: false, error: err instanceof Error ? err.message : String(err), ...extra } satisfies HistoryThreadReply, transfer),
  );
};

/** The memory of an append's batch, to give back with the reply. */
const buffersOf = (request: HistoryThreadRequest): ReturnedBuffers | undefined =>
  request.kind === 'append' ? { numbers: request.batch.numbers.buffer as ArrayBuffer, text: request.batch.text.buffer as ArrayBuffer } : undefined;

/**
 * The nice value of this thread (Linux keeps one per thread): the lowest priority. On a busy
 * machine the thread's commits then wait for a core the serving path leaves free, instead of
 * taking one away from the gateway or an instance for a few milliseconds at a time (which stalls
 * both: each waits on the other). It still keeps up: the history's writer bounds what waits for it.
 * Measured with the bench's records on/off stage on two vCPUs: 0.934 before, 0.957 and 0.982 after.
 */
const HISTORY_THREAD_NICE = 19;

try {
  setPriority(HISTORY_THREAD_NICE);
} catch {
  // Not allowed here (a platform without per-thread priorities): the thread runs as it is.
}

const opened = SqliteHistory.open(dataDir);
void reply(0, () => opened.then(() => 0));
port.on('message', (request: HistoryThreadRequest) => {
  // The database's calls are synchronous and each request waits on the same open, so requests
  // are served one after another, in the order they came.
  void reply(request.seq, async () => serve(await opened, request), buffersOf(request)).then(() => {
    if (request.kind === 'close') port.close();
  });
});
