/**
 * A failure signal for a batch of asynchronous work: once {@link Abort.fail} is called, every
 * {@link Abort.chunks} iteration stops at its next step with that error, even while it waits
 * for data that will now never come (the archive reader was stopped).
 */
export class Abort {
  private failure: { error: unknown } | undefined;
  private rejectAborted!: (err: unknown) => void;
  private readonly aborted = new Promise<never>((_, reject) => {
    this.rejectAborted = reject;
  });

  constructor() {
    // Nobody may be waiting when it fails; that is not an unhandled rejection.
    this.aborted.catch(() => {});
  }

  /** True once failed. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** The first error, if failed. */
  get error(): unknown {
    return this.failure?.error;
  }

  /** Records the first failure; later ones are ignored. Returns true for the first. */
  fail(err: unknown): boolean {
    if (this.failure) return false;
    this.failure = { error: err };
    this.rejectAborted(err);
    return true;
  }

  /** Iterates `source`, stopping with the failure as soon as there is one. */
  async *chunks<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    const iterator = source[Symbol.asyncIterator]();
    for (;;) {
      if (this.failure) throw this.failure.error;
      const step = await Promise.race([iterator.next(), this.aborted]);
      if (step.done) return;
      yield step.value;
    }
  }
}
