import { type FileHandle, open } from 'node:fs/promises';

/**
 * Makes a SQLite WAL file's committed frames durable off the event loop: `fdatasync` on the
 * `-wal` file runs on libuv's thread pool, so the loop keeps serving while the disk syncs.
 *
 * Why this is as safe as `synchronous=FULL`: in WAL mode every commit appends its pages and a
 * commit frame to the `-wal` file; FULL makes SQLite sync that file before the commit returns,
 * NORMAL leaves it in the page cache (and syncs it only before a checkpoint, the database file
 * after). Syncing the file ourselves after the commit, before telling anyone it is stored, gives
 * the same guarantee against a power cut, without blocking the loop for the length of an fsync.
 *
 * Syncs coalesce: a request made while one is in flight waits for the next, which starts when the
 * current one ends and covers every commit made until then.
 */
export class WalSync {
  private handle: Promise<FileHandle> | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private closed = false;
  /** Syncs done so far (for tests: how many commits shared one). */
  syncs = 0;

  /** @param walPath the database's `-wal` file (it exists once the database is in WAL mode and was written). */
  constructor(private readonly walPath: string) {}

  /** Resolves once every commit made before the call is on disk. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WalSync is closed'));
    if (!this.running) {
      this.running = this.syncOnce().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // A sync is in flight: it may have started before the caller's commit, so the caller needs
    // the one after it, which everybody asking meanwhile shares.
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  /** Waits for syncs in flight, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.running, this.next]);
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    this.running = this.syncOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    this.handle ??= open(this.walPath, 'r+');
    await (await this.handle).datasync();
    this.syncs++;
  }
}
