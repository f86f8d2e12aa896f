/**
 * What a multi-step start-up has started so far, released in reverse order when a later step
 * fails, so a failed start leaves nothing running (processes, open databases, cgroups, temporary
 * directories) and the process can exit. Node 20 has no `AsyncDisposableStack`; this is the part
 * of it start-up needs.
 */
export class CleanupStack {
  private readonly releases: Array<() => unknown> = [];

  /** Registers how to release something that was just started. */
  defer(release: () => unknown): void {
    this.releases.push(release);
  }

  /**
   * Releases everything registered, last first. A release that fails is reported and the rest
   * still run: the start-up error is what the caller reports, not a clean-up error.
   */
  async releaseAll(onError: (err: unknown) => void): Promise<void> {
    for (let release = this.releases.pop(); release; release = this.releases.pop()) {
      try {
        await release();
      } catch (err) {
        onError(err);
      }
    }
  }
}
