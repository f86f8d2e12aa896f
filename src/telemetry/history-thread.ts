import { Worker } from 'node:worker_threads';
import type { HistoryRetention } from '../store/history-types.js';
import type { HistoryThreadReply, HistoryThreadRequest, HistoryWorkerData, ReturnedBuffers } from './history-worker.js';
import type { RecordBatch } from '../store/record-batch.js';

/** How long a closing thread may take to write what it was given and end, before it is terminated. */
const CLOSE_GRACE_MS = 10_000;

/** Omit over each member of a union (a plain Omit would merge the members). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request before it is numbered. */
type Request = DistributiveOmit<HistoryThreadRequest, 'seq'>;

interface Pending {
  resolve(value: number): void;
  reject(err: Error): void;
}

/** One running thread and what it has been asked and not yet answered. */
interface Running {
  worker: Worker;
  ready: Promise<void>;
  pending: Map<number, Pending>;
}

/**
 * Writes the invocation history on a thread of its own (src/telemetry/history-worker.ts). At full
 * load the event loop is the gateway's bottleneck while the other cores have room: inserting a
 * record cost the loop about a sixth of a warm invocation's time, and here it costs packing a
 * few numbers and bytes and, per batch, one message. Reads stay on the platform's own
 * connection: in WAL mode they never wait for this writer.
 *
 * A thread that ends unexpectedly fails what it had been asked (the writer reports those records
 * as lost) and is started again at the next request.
 */
export class HistoryThread {
  private running: Running | undefined;
  private seq = 0;
  private closed = false;

  private constructor(
    private readonly dataDir: string,
    private readonly onError: (message: string) => void,
    private readonly onReturned: (buffers: ReturnedBuffers) => void,
  ) {}

  /**
   * Starts the thread; resolves once it has opened `<dataDir>/history.db`. `onReturned` receives
   * the memory of each appended batch once the thread is done with it (for the next batch to fill).
   */
  static async start(dataDir: string, onError: (message: string) => void, onReturned: (buffers: ReturnedBuffers) => void = () => undefined): Promise<HistoryThread> {
    const thread = new HistoryThread(dataDir, onError, onReturned);
    await thread.spawn().ready;
    return thread;
  }

  /** Appends a batch (records and ledger in one transaction); resolves with its size once committed. */
  append(batch: RecordBatch): Promise<number> {
    // The arrays' buffers move to the thread (the batch is unusable here afterwards): no copy.
    return this.ask({ kind: 'append', batch }, [batch.numbers.buffer as ArrayBuffer, batch.text.buffer as ArrayBuffer]);
  }

  /** See {@link HistoryRepository.sweep}. */
  sweep(now: number, retention: HistoryRetention): Promise<number> {
    return this.ask({ kind: 'sweep', now, retention });
  }

  /** See {@link HistoryRepository.deleteFunction}. */
  deleteFunction(fn: string): Promise<number> {
    return this.ask({ kind: 'deleteFunction', fn });
  }

  /** Lets the thread finish what it was given, closes its connection and ends it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = this.running;
    if (!running) return;
    const exited = new Promise<void>((resolve) => running.worker.once('exit', () => resolve()));
    const stopAfter = setTimeout(() => void running.worker.terminate(), CLOSE_GRACE_MS);
    // Requests asked before close are sent once the thread is ready, in the order asked; waiting
    // on the same promise after them sends the close last.
    await running.ready.catch(() => undefined);
    try {
      await this.send(running, { kind: 'close' });
    } catch (err) {
      this.onError(`closing the history thread failed: ${(err as Error).message}`);
    }
    await exited;
    clearTimeout(stopAfter);
  }

  private ask(request: Request, transfer: ArrayBuffer[] = []): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the history is closed'));
    const running = this.running ?? this.spawn();
    return running.ready.then(() => this.send(running, request, transfer));
  }

  private send(running: Running, request: Request, transfer: ArrayBuffer[] = []): Promise<number> {
    const seq = ++this.seq;
    return new Promise<number>((resolve, reject) => {
      running.pending.set(seq, { resolve, reject });
      // Kept alive while it owes an answer, so a closing platform waits for its last batch.
      running.worker.ref();
      running.worker.postMessage({ ...request, seq } as HistoryThreadRequest, transfer);
    });
  }

  private spawn(): Running {
    const data: HistoryWorkerData = { dataDir: this.dataDir };
    const worker = new Worker(new URL('./history-worker.js', import.meta.url), { workerData: data });
    const pending = new Map<number, Pending>();
    let opened: Pending | undefined;
    const running: Running = {
      worker,
      pending,
      ready: new Promise<void>((resolve, reject) => {
        opened = { resolve: () => resolve(), reject };
      }),
    };
    pending.set(0, opened!);
    this.running = running;
    worker.on('message', (reply: HistoryThreadReply) => {
      const waiter = pending.get(reply.seq);
      pending.delete(reply.seq);
      if (pending.size === 0) worker.unref();
      if (reply.returned) this.onReturned(reply.returned);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(new Error(reply.error));
    });
    worker.on('error', (err) => this.onError(`the history thread failed: ${err.message}`));
    worker.once('exit', (code) => {
      if (this.running === running) this.running = undefined;
      const gone = new Error(`the history thread ended (exit code ${code})`);
      for (const waiter of pending.values()) waiter.reject(gone);
      pending.clear();
      if (!this.closed) this.onError(`${gone.message}; it is started again for the next batch`);
    });
    // A failed open ends this attempt; the next request starts a new thread.
    running.ready.catch(() => void worker.terminate());
    return running;
  }
}
