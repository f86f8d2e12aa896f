import type { Clock } from '../core/clock.js';
import type { InvocationEnded } from '../core/invocation.js';
import type { HistoryRepository } from '../store/history-types.js';
import { historyRecordOf } from './metering.js';

/** How often the buffered records are written: what a crash of the platform may lose at most. */
export const FLUSH_INTERVAL_MS = 150;
/** Records at which a batch is written without waiting for the interval (bounds memory and a commit's length). */
export const MAX_BATCH = 2000;

/**
 * Writes every ended invocation to the history (and so the ledger) in batches. On the invocation's
 * path `record` only pushes the event onto an array; the records are made and written, one
 * transaction per batch, every {@link FLUSH_INTERVAL_MS} or once {@link MAX_BATCH} have gathered,
 * and at close. A batch the database refuses is reported and dropped: the history is a log, and
 * the invocations it describes have already been answered.
 */
export class HistoryWriter {
  private buffer: InvocationEnded[] = [];
  private flushSoon = false;
  private stopTimer: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly history: HistoryRepository,
    private readonly clock: Clock,
    private readonly onError: (err: unknown, lost: number) => void,
  ) {}

  /** The invocation listener: an array push (and, once per full batch, a scheduled flush). */
  readonly record = (ended: InvocationEnded): void => {
    if (this.buffer.push(ended) >= MAX_BATCH && !this.flushSoon) {
      this.flushSoon = true;
      setImmediate(() => void this.flush());
    }
  };

  /** Starts the periodic flush. */
  start(): void {
    this.stopTimer ??= this.clock.every(FLUSH_INTERVAL_MS, () => void this.flush());
  }

  /** Writes what is buffered now; resolves once written (or dropped with an error reported). */
  flush(): Promise<void> {
    this.flushSoon = false;
    const batch = this.buffer;
    if (batch.length > 0) {
      this.buffer = [];
      this.writing = this.writing.then(() =>
        this.history.append(batch.map(historyRecordOf)).catch((err: unknown) => this.onError(err, batch.length)),
      );
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
