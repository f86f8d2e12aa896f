import type { Database } from 'better-sqlite3';

/** An operation waiting for the next group commit. */
interface Pending {
  run: () => unknown;
  /** Settle only once the commit is on disk (see {@link GroupCommit} `durable`). */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** How one operation of a batch went. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs write operations in shared transactions: every operation submitted within one turn of the
 * event loop (or until `maxBatch` have gathered) is applied in ONE transaction, so a burst of
 * enqueues pays one commit (one fsync) instead of one each. Each caller's promise settles only
 * after the transaction that holds its operation has committed; operations submitted as durable,
 * when the group commit has a `durable` step (an fsync off the event loop, see wal-sync.ts), only
 * once that step has made the commit durable.
 *
 * Each operation runs in a savepoint of its own: one that throws is rolled back alone and its
 * caller gets the error, while the others still commit. If the commit itself fails (disk full,
 * I/O error), every caller of the batch gets the error: none of their writes were stored.
 *
 * Operations run in the order they were submitted, so a caller's later call sees its earlier ones.
 */
export class GroupCommit {
  private pending: Pending[] = [];
  private scheduled = false;
  private commitCount = 0;
  private readonly savepoint: (run: () => unknown) => unknown;
  /** Runs a batch in one transaction, each operation in its savepoint; answers their outcomes. */
  private readonly runBatch: (batch: Pending[]) => Outcome[];

  /**
   * @param db the connection to write on.
   * @param maxBatch operations at which a batch is committed without waiting for the turn to end,
   *   bounding a transaction's size (and the time it holds the event loop).
   */
  constructor(
    db: Database,
    private readonly maxBatch = 5_000,
    /**
     * Makes the batch's commit durable, for batches holding operations submitted as durable;
     * absent, a commit is as durable as the connection's `synchronous` setting makes it.
     */
    private readonly durable?: () => Promise<void>,
  ) {
    // A better-sqlite3 transaction function called inside a transaction uses a SAVEPOINT.
    this.savepoint = db.transaction((run: () => unknown) => run());
    const inTransaction = db.transaction((batch: Pending[]) =>
      batch.map((op): Outcome => {
        try {
          return { ok: true, value: this.savepoint(op.run) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
    // The usual batch has no failing operation: it runs without savepoints (two statements less
    // per operation). Only when one throws is the batch rolled back and run again with them, so
    // the failing one is undone alone. Operations are pure database work (a lease's new token or
    // an insert's values are taken again), so running them twice changes nothing but the time.
    const optimistic = db.transaction((batch: Pending[]) => batch.map((op): Outcome => ({ ok: true, value: op.run() })));
    this.runBatch = (batch) => {
      try {
        return optimistic.immediate(batch);
      } catch {
        return inTransaction.immediate(batch);
      }
    };
  }

  /** Transactions committed so far (for tests and metrics: operations / commits = batching). */
  get commits(): number {
    return this.commitCount;
  }

  /**
   * Queues `run` for the next group commit; resolves with its result once committed, and with
   * `durable`, once the commit is on disk too.
   */
  submit<T>(run: () => T, durable = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, durable, resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a timer: it runs after the I/O callbacks of this loop turn (the
        // requests that arrived together), and needs no Clock because it measures no time.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything submitted so far, now. Called by the scheduler and by close. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch(batch);
      this.commitCount++;
    } catch (error) {
      for (const op of batch) op.reject(error);
      return;
    }
    const settle = (i: number, synced: Error | undefined) => {
      const op = batch[i]!;
      const outcome = outcomes[i]!;
      if (!outcome.ok) op.reject(outcome.error);
      else if (synced) op.reject(synced);
      else op.resolve(outcome.value);
    };
    const waiting: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      if (this.durable && batch[i]!.durable && outcomes[i]!.ok) waiting.push(i);
      else settle(i, undefined);
    }
    if (waiting.length === 0) return;
    // The durable ones hear back once the disk has the commit; the loop goes on meanwhile.
    this.durable!().then(
      () => waiting.forEach((i) => settle(i, undefined)),
      (err: unknown) => waiting.forEach((i) => settle(i, err instanceof Error ? err : new Error(String(err)))),
    );
  }
}
