import type { Clock } from '../core/clock.js';
import type { InvocationEnded } from '../core/invocation.js';
import { RecordBatchBuilder, type RecordBatch } from '../store/record-batch.js';
import { historyRecordOf } from './metering.js';

/** How often the buffered records are written: what a crash of the platform may lose at most. */
export const FLUSH_INTERVAL_MS = 150;
/** Records at which a batch is written without waiting for the interval (bounds memory and a commit's length). */
export const MAX_BATCH = 2000;
/**
 * Batches that may wait for the history thread (it runs at the lowest priority, so on a machine
 * kept busy for long it can fall behind): up to 64 × 2,000 records, some 30 MB. A batch beyond
 * that is dropped and reported, rather than the platform's memory growing without end.
 */
export const MAX_WAITING_BATCHES = 64;

/** Where a batch goes: the history thread's append in the platform. Resolves once it is stored. */
export type AppendBatch = (batch: RecordBatch) => Promise<unknown>;

/**
 * Writes every ended invocation to the history (and so the ledger) in batches. On the invocation's
 * path `record` packs the event's record into a {@link RecordBatch} (and, once per full batch,
 * schedules a flush); the batch is handed to `append`, which writes it in one transaction, every
 * {@link FLUSH_INTERVAL_MS} or once {@link MAX_BATCH} have gathered, and at close. A batch the
 * database refuses is reported and dropped: the history is a log, and the invocations it describes
 * have already been answered.
 */
export class HistoryWriter {
  private readonly batch = new RecordBatchBuilder();
  private flushSoon = false;
  private stopTimer: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Batches handed to {@link flush} and not yet written (or dropped). */
  private waiting = 0;

  constructor(
    private readonly append: AppendBatch,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, lost: number) => void,
  ) {}

  /**
   * The invocation listener: packs the record (and, once per full batch, schedules a flush). The
   * record object dies at once; only numbers and bytes wait for the flush.
   */
  readonly record = (ended: InvocationEnded): void => {
    if (this.batch.add(historyRecordOf(ended)) >= MAX_BATCH && !this.flushSoon) {
      this.flushSoon = true;
      setImmediate(() => void this.flush());
    }
  };

  /** Takes back the memory of a written batch (see {@link RecordBatchBuilder.recycle}). */
  readonly recycle = (numbers: ArrayBuffer, text: ArrayBuffer): void => {
    this.batch.recycle(numbers, text);
  };

  /** Starts the periodic flush. */
  start(): void {
    this.stopTimer ??= this.clock.every(FLUSH_INTERVAL_MS, () => void this.flush());
  }

  /** Hands over what is buffered now; resolves once written (or dropped with an error reported). */
  flush(): Promise<void> {
    this.flushSoon = false;
    const batch = this.batch.take();
    if (batch && this.waiting >= MAX_WAITING_BATCHES) {
      this.onError(new Error(`the history thread is ${this.waiting} batches behind; this batch is dropped`), batch.count);
    } else if (batch) {
      this.waiting++;
      // One batch at a time, in order: a slow commit holds the next batch back, not the loop.
      this.writing = this.writing.then(() => this.append(batch).then(
        () => undefined,
        (err: unknown) => this.onError(err, batch.count),
      )).finally(() => this.waiting--);
    }
    return this.writing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.flush();
  }
}
