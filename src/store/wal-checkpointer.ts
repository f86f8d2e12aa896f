import { Worker } from 'node:worker_threads';
import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import type { CheckpointReply, CheckpointWorkerData } from './wal-checkpoint-worker.js';

/** How often the WAL is checkpointed off the event loop. */
export const CHECKPOINT_INTERVAL_MS = 200;

/** How long a closing checkpoint thread may take to end before it is terminated. */
const CLOSE_GRACE_MS = 5_000;

/**
 * WAL pages at which the writer's own connection still checkpoints, on its event loop: only
 * reached when the checkpoint thread cannot keep up (or is gone), so the WAL never grows without
 * bound. SQLite's default of 1,000 made a checkpoint (two fsyncs) block the loop every few dozen
 * group commits.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 20_000;

/**
 * Checkpoints a SQLite file's WAL on a thread of its own. SQLite's automatic checkpoint runs
 * inside the commit that crosses its threshold, on the writer's thread: the event loop then waits
 * for the copy and two fsyncs (measured: about half the wall time of a stream of small group
 * commits). Here the writer's connection checkpoints only as a fallback, and a worker thread with
 * a second connection checkpoints every {@link CHECKPOINT_INTERVAL_MS} with PASSIVE, which runs
 * beside the writer without blocking it. Once a checkpoint has copied everything, the writer
 * starts the WAL over at its next commit, so the file stays small. A tick finds nothing to do
 * when the writer has changed nothing since the last checkpoint that copied the whole WAL: an
 * idle platform then wakes no thread (two files ticking five times a second each cost an idle
 * platform about 7 ms of CPU a second, measured).
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  /** Settles when the thread has ended, however it ended. */
  private readonly exited: Promise<void>;
  private running = true;
  private readonly stopTicking: () => void;
  private inFlight = false;
  private closed = false;
  /** The writer's `total_changes()`: rows it has inserted, updated or deleted since it opened. */
  private readonly writerChanges: Statement<[], number>;
  /** The writer's changes when the last checkpoint that copied the whole WAL was asked for. */
  private changesCheckpointed = -1;
  /** The writer's changes when the checkpoint in flight was asked for. */
  private changesRequested = -1;
  private readonly waiters: ((reply: CheckpointReply) => void)[] = [];
  /** Checkpoints done so far (for tests). */
  checkpoints = 0;

  /**
   * @param db the writer's connection (its automatic checkpoint is turned down to the fallback).
   * @param file the database file the worker opens.
   * @param onError told when a checkpoint fails (the next tick tries again).
   */
  constructor(db: Database, file: string, clock: Clock, private readonly onError: (message: string) => void = () => undefined) {
    db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    this.writerChanges = db.prepare<[], number>('SELECT total_changes()').pluck();
    const data: CheckpointWorkerData = { file };
    this.worker = new Worker(new URL('./wal-checkpoint-worker.js', import.meta.url), { workerData: data });
    // The thread keeps the process alive only while it answers a request, and never takes it down.
    this.worker.unref();
    this.worker.on('error', (err) => this.onError(`the checkpoint thread failed: ${err.message}`));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.running = false;
        // Gone before close: checkpoints fall back to the writer's own (FALLBACK_AUTOCHECKPOINT_PAGES).
        if (!this.closed) this.onError('the checkpoint thread ended; the writer checkpoints by itself from now on');
        for (const waiter of this.waiters.splice(0)) waiter({ ok: false, error: 'the checkpoint thread ended' });
        resolve();
      }),
    );
    this.worker.on('message', (reply: CheckpointReply) => {
      this.inFlight = false;
      this.worker.unref();
      if (reply.ok) {
        this.checkpoints++;
        // A checkpoint that could not copy everything (a reader held older pages) is tried again.
        if (reply.checkpointed >= reply.log) this.changesCheckpointed = this.changesRequested;
      } else {
        this.onError(reply.error);
      }
      for (const waiter of this.waiters.splice(0)) waiter(reply);
    });
    this.stopTicking = clock.every(CHECKPOINT_INTERVAL_MS, () => this.tick());
  }

  /** Checkpoints now (or joins the checkpoint in flight); resolves with what it did. */
  checkpoint(): Promise<CheckpointReply> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.request();
    });
  }

  /** Stops checkpointing and ends the thread; the writer's last close checkpoints what is left. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTicking();
    if (this.running) {
      this.worker.ref();
      this.worker.postMessage('close');
      // A thread that does not end by itself (stuck in a checkpoint of a huge WAL) is ended.
      const stopAfter = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
      await this.exited;
      clearTimeout(stopAfter);
    }
    for (const waiter of this.waiters.splice(0)) waiter({ ok: false, error: 'closed' });
  }

  /** Asks for a checkpoint when the writer has changed something since the last whole one. */
  private tick(): void {
    if (!this.closed && this.running && this.writerChanges.get() === this.changesCheckpointed) return;
    this.request();
  }

  private request(): void {
    if (this.closed || !this.running) {
      for (const waiter of this.waiters.splice(0)) waiter({ ok: false, error: 'closed' });
      return;
    }
    if (this.inFlight) return;
    this.inFlight = true;
    this.changesRequested = this.writerChanges.get()!;
    this.worker.ref();
    this.worker.postMessage('checkpoint');
  }
}
