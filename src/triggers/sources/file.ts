import { watch, type FSWatcher } from 'chokidar';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import picomatch from 'picomatch';
import type { SourceContext, SourceKind, TriggerEvent, TriggerSource } from '../types.js';
import { fileEvent } from './file-event.js';
import { changeOf, entryOf, FILE_INDEX_KEY, type FileEntry, type FileIndex, type PathFilter, relativeTo, scanDirectory, type StoredFileIndex } from './file-index.js';
import { type FileEventKind, type FileSettings, fileSettingsSchema } from './file-settings.js';
import { backoffDelay } from './source-support.js';

export { FILE_INDEX_KEY, type StoredFileIndex } from './file-index.js';
export { type FileSettings, fileSettingsSchema } from './file-settings.js';

/** Tuning of a file source; the defaults are what the platform uses. */
export interface FileSourceOptions {
  /** Quiet time after a file's last change before it becomes an event (through the Clock). @default 200 */
  debounceMs?: number;
  /** First wait before looking for a missing directory again, or redelivering a refused event; doubles each time. @default 1000 */
  retryMs?: number;
  /** Longest wait between retries. @default 30000 */
  maxRetryMs?: number;
  /** Host in the events' `file://<host>/<dir>` source. @default os.hostname() */
  host?: string;
  /** Called for every change the watcher reports, before debouncing (lets tests wait for the watcher, not for time). */
  onWatcherEvent?: (event: string, relativePath: string) => void;
}

/** Most files reconciled, and events delivered, in one round (one `deliver`, one index write). */
const BATCH = 100;

/**
 * Watches a directory (chokidar) and turns changes of its files into `dev.nimbus.file.*` events.
 *
 * Every change the watcher reports only marks the file dirty; once it has been quiet for
 * `debounceMs` (the Clock's timer, restarted by each change, rather than chokidar's
 * awaitWriteFinish, which polls on real timers and could not be stepped in tests) the file is
 * stat'ed and compared with the index: new → created, other size or mtime → modified, gone →
 * deleted, same → nothing. So a burst of writes is one event, and the same comparison at start
 * (a scan against the index persisted in `context.state`) finds what changed while the platform
 * was down. The index moves only after `sink.deliver` resolved: a refused or interrupted delivery
 * is found again and delivered with the same event id. Files already there when a trigger first
 * starts are its baseline, not changes (as with a directory that appears later, whose files are).
 */
class FileTriggerSource implements TriggerSource {
  private readonly root: string;
  private readonly watched: PathFilter;
  private readonly debounceMs: number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private readonly host: string;
  private index: FileIndex = {};
  /** True until the first scan: files already there when the trigger is new are its baseline, not changes. */
  private baseline = false;
  private watcher: FSWatcher | undefined;
  /** Files changed recently, with the cancel function of their quiet-time timer. */
  private readonly debouncing = new Map<string, () => void>();
  /** Files due for a comparison with the index. */
  private readonly due = new Set<string>();
  /** Cancel functions of pending retries (reconnect, redelivery). */
  private readonly retries = new Set<() => void>();
  private draining: Promise<void> | undefined;
  private connectFailures = 0;
  /** Numbers the connection attempts: one that is no longer the latest stops where it is. */
  private generation = 0;
  private cancelConnect: (() => void) | undefined;
  private deliveryFailures = 0;
  private stopped = false;
  private stopSignal: Promise<void> = Promise.resolve();
  private signalStop: () => void = () => undefined;

  constructor(
    private readonly context: SourceContext<FileSettings>,
    private readonly options: FileSourceOptions = {},
  ) {
    this.root = path.resolve(context.settings.path);
    const pattern = context.settings.pattern;
    const matches = pattern === undefined ? undefined : picomatch(pattern, { dot: true });
    this.watched = matches ?? (() => true);
    this.debounceMs = options.debounceMs ?? 200;
    this.retryMs = options.retryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
    this.host = options.host ?? hostname();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
    const stored = await this.context.state.get<StoredFileIndex>(FILE_INDEX_KEY);
    const current = stored !== undefined && stored.root === this.root && stored.pattern === (this.context.settings.pattern ?? null);
    this.index = current ? stored.files : {};
    this.baseline = !current;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    for (const cancel of [...this.retries, ...this.debouncing.values()]) cancel();
    this.retries.clear();
    this.debouncing.clear();
    this.due.clear();
    await this.closeWatcher();
    await this.draining;
  }

  /** Starts watching, then compares a scan with the index; on failure reports `failing` and tries again later. Never throws. */
  private async connect(): Promise<void> {
    if (this.stopped) return;
    // A later connect, a lost watcher or a stop makes this attempt moot: it then leaves quietly.
    const generation = ++this.generation;
    const superseded = () => this.stopped || generation !== this.generation;
    let watcher: FSWatcher | undefined;
    try {
      const stats = await stat(this.root);
      if (!stats.isDirectory()) throw new Error(`${this.root} is not a directory`);
      await access(this.root, constants.R_OK | constants.X_OK);
      if (superseded()) return;
      // The watcher first, the scan second: a change made in between is seen by one or both,
      // and comparing a file twice with the index gives one event.
      watcher = watch(this.root, { ignoreInitial: true, followSymlinks: false });
      const ready = watcher;
      this.watcher = ready;
      ready.on('all', (event, file) => this.seen(event, file));
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          ready.once('ready', resolve);
          ready.once('error', reject);
        }),
        this.stopSignal,
      ]);
      if (superseded()) return void (await ready.close());
      ready.on('error', (err) => this.lost(err instanceof Error ? err : new Error(String(err))));
      // chokidar reports an emptied root's removal only as a raw rename of the directory itself.
      ready.on('raw', (event, _file, details) => {
        if (event === 'rename' && (details as { watchedPath?: string } | undefined)?.watchedPath === this.root) void this.checkRoot();
      });
      const onDisk = await scanDirectory(this.root, this.watched);
      if (superseded()) return;
      if (this.baseline) {
        this.index = onDisk;
        await this.saveIndex();
        this.baseline = false;
      }
      for (const name of new Set([...Object.keys(onDisk), ...Object.keys(this.index)])) this.due.add(name);
      this.connectFailures = 0;
      this.context.status.active();
      this.kick();
    } catch (err) {
      if (watcher && this.watcher === watcher) await this.closeWatcher();
      else await watcher?.close();
      if (superseded()) return;
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? `${this.root} does not exist` : `${this.root} cannot be watched: ${(err as Error).message}`;
      if (this.baseline && code === 'ENOENT') {
        // A new trigger whose directory does not exist yet: what appears in it later is new.
        this.baseline = false;
        await this.saveIndex().catch((saveErr: unknown) => this.context.logger.warn({ err: saveErr, trigger: this.context.trigger }, 'file trigger: cannot save the index'));
      }
      const delay = this.backoff(++this.connectFailures);
      this.context.status.failing(`${reason}; trying again in ${Math.round(delay / 1000)} s`);
      this.connectLater(delay);
    }
  }

  /** A change the watcher reported: the file is compared once it has been quiet for `debounceMs`. */
  private seen(event: string, file: string): void {
    if (this.stopped) return;
    const name = relativeTo(this.root, file);
    this.options.onWatcherEvent?.(event, name);
    if (event === 'add' || event === 'change' || event === 'unlink') this.debounce(name);
    else if (event === 'unlinkDir') {
      if (name === '') this.lost(new Error('the directory was removed'));
      // A removed sub-directory: its files are gone, whatever the watcher said of them.
      else for (const known of Object.keys(this.index)) if (known.startsWith(`${name}/`)) this.debounce(known);
    }
  }

  /** The watcher failed or the directory went away: report it and start again with back-off. */
  private lost(err: Error): void {
    if (this.stopped || !this.watcher) return;
    this.generation++; // a connect still under way gives up
    const delay = this.backoff(++this.connectFailures);
    this.context.status.failing(`watching ${this.root} failed: ${err.message}; trying again in ${Math.round(delay / 1000)} s`);
    void this.closeWatcher().then(() => this.connectLater(delay));
  }

  /** One reconnection pending at most: a newer one replaces it. */
  private connectLater(delay: number): void {
    if (this.cancelConnect) {
      this.cancelConnect();
      this.retries.delete(this.cancelConnect);
    }
    const cancel = this.context.clock.after(delay, () => {
      this.retries.delete(cancel);
      this.cancelConnect = undefined;
      if (!this.stopped) void this.connect();
    });
    this.cancelConnect = cancel;
    this.retries.add(cancel);
  }

  /** Reports the directory lost when it is gone (or no longer a directory). */
  private async checkRoot(): Promise<void> {
    const present = await stat(this.root).then(
      (stats) => stats.isDirectory(),
      () => false,
    );
    if (!present) this.lost(new Error('the directory was removed'));
  }

  private debounce(name: string): void {
    this.debouncing.get(name)?.();
    const cancel = this.context.clock.after(this.debounceMs, () => {
      this.debouncing.delete(name);
      this.due.add(name);
      this.kick();
    });
    this.debouncing.set(name, cancel);
  }

  /** Runs the delivery loop unless it runs already (it picks up what is due meanwhile). */
  private kick(): void {
    if (this.draining || this.stopped) return;
    this.draining = this.drain()
      .catch((err: unknown) => this.context.logger.error({ err, trigger: this.context.trigger }, 'file trigger: delivery loop failed'))
      .finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (this.due.size > 0 && !this.stopped) {
      const names = [...this.due].slice(0, BATCH);
      for (const name of names) this.due.delete(name);
      const changes = await this.changesOf(names);
      const events: TriggerEvent[] = changes
        .filter((change) => this.context.settings.events.includes(change.kind))
        .map((change) => fileEvent({ kind: change.kind, root: this.root, name: change.name, entry: change.current ?? change.remembered! }, { host: this.host, now: this.context.clock.now() }));
      if (events.length > 0) {
        await Promise.race([this.context.sink.whenRoom(), this.stopSignal]);
        if (this.stopped) return;
        try {
          await this.context.sink.deliver(events);
          this.deliveryFailures = 0;
        } catch (err) {
          // Not delivered: the index keeps the old entries, so the same comparison finds the same
          // changes again (same ids) on the retry, or at the next start.
          const delay = this.backoff(++this.deliveryFailures);
          this.context.logger.warn({ err, trigger: this.context.trigger, events: events.length, retryInMs: delay }, 'file trigger: delivery refused; will retry');
          this.retryAfter(delay, () => {
            for (const change of changes) this.due.add(change.name);
            this.kick();
          });
          continue;
        }
      }
      if (changes.length === 0) continue;
      for (const change of changes) {
        if (change.current) this.index[change.name] = change.current;
        else delete this.index[change.name];
      }
      await this.saveIndex();
    }
  }

  private saveIndex(): Promise<void> {
    const stored: StoredFileIndex = { root: this.root, pattern: this.context.settings.pattern ?? null, files: this.index };
    return this.context.state.set(FILE_INDEX_KEY, stored);
  }

  /** Compares each file on disk with the index; unreadable files are logged and left for their next change. */
  private async changesOf(names: string[]): Promise<Array<{ name: string; kind: FileEventKind; current?: FileEntry; remembered?: FileEntry }>> {
    const changes: Array<{ name: string; kind: FileEventKind; current?: FileEntry; remembered?: FileEntry }> = [];
    for (const name of names) {
      try {
        const current = await entryOf(this.root, name, this.watched);
        const remembered = this.index[name];
        const kind = changeOf(remembered, current);
        if (kind) changes.push({ name, kind, ...(current ? { current } : {}), ...(remembered ? { remembered } : {}) });
      } catch (err) {
        this.context.logger.warn({ err, trigger: this.context.trigger, file: name }, 'file trigger: cannot read the file; skipped');
      }
    }
    return changes;
  }

  private retryAfter(delay: number, fn: () => void): void {
    const cancel = this.context.clock.after(delay, () => {
      this.retries.delete(cancel);
      if (!this.stopped) fn();
    });
    this.retries.add(cancel);
  }

  private backoff(failures: number): number {
    return backoffDelay(failures, this.retryMs, this.maxRetryMs);
  }

  private async closeWatcher(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }
}

/** Makes a file source; tests pass options, the platform uses {@link fileSource}. */
export function createFileSource(context: SourceContext<FileSettings>, options?: FileSourceOptions): TriggerSource {
  return new FileTriggerSource(context, options);
}

/** The `file` trigger kind: `--watch <dir> [--pattern <glob>] [--events created,modified,deleted]`. */
export const fileSource: SourceKind<FileSettings> = {
  type: 'file',
  settings: fileSettingsSchema,
  secretNames: () => [],
  create: (context) => createFileSource(context),
};
