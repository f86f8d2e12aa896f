import type { Database } from 'better-sqlite3';

/** An operation waiting for the next group commit. */
interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs write operations in shared transactions: every operation submitted within one turn of the
 * event loop (or until `maxBatch` have gathered) is applied in ONE transaction, so a burst of
 * enqueues pays one commit (one fsync with synchronous=FULL) instead of one each. Each caller's
 * promise settles only after the transaction that holds its operation has committed.
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

  /**
   * @param db the connection to write on.
   * @param maxBatch operations at which a batch is committed without waiting for the turn to end,
   *   bounding a transaction's size (and the time it holds the event loop).
   */
  constructor(
    private readonly db: Database,
    private readonly maxBatch = 5_000,
  ) {
    // A better-sqlite3 transaction function called inside a transaction uses a SAVEPOINT.
    this.savepoint = db.transaction((run: () => unknown) => run());
  }

  /** Transactions committed so far (for tests and metrics: operations / commits = batching). */
  get commits(): number {
    return this.commitCount;
  }

  /** Queues `run` for the next group commit; resolves with its result once committed. */
  submit<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
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
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db
        .transaction(() => {
          for (const op of batch) {
            try {
              outcomes.push({ ok: true, value: this.savepoint(op.run) });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
      this.commitCount++;
    } catch (error) {
      for (const op of batch) op.reject(error);
      return;
    }
    batch.forEach((op, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.error);
    });
  }
}
