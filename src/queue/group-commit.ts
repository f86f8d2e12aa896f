import type { Database } from 'better-sqlite3';

/** An operation waiting for the next group commit. */
interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** How one operation of a batch went. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

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
    this.runBatch = (batch) => inTransaction.immediate(batch);
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
    let outcomes: Outcome[];
    try {
      outcomes = this.runBatch(batch);
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
