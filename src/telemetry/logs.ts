import type { LogFiles, LogFilter } from './log-files.js';

/** One captured line of a function's output. */
export interface LogEntry {
  /** Epoch milliseconds. */
  time: number;
  function: string;
  /** The invocation that wrote the line, or null outside any invocation (e.g. module load). */
  invocationId: string | null;
  stream: 'stdout' | 'stderr';
  message: string;
}

/**
 * Sorts entries by their time, keeping arrival order among equal times (a stable sort). A line's
 * time is the runtime's, taken as the function wrote it, and stdout and stderr reach the platform
 * through pipes of their own: a stderr line may arrive after a later stdout line. Sorts in place
 * and returns `entries`.
 */
export function oldestFirst(entries: LogEntry[]): LogEntry[] {
  return entries.sort((a, b) => a.time - b.time);
}

/** Where instances' output goes. */
export interface LogSink {
  append(entry: LogEntry): void;
}

/** Bounds per function; the newest entries are kept. */
export interface LogBufferOptions {
  /** @default 10000 */
  maxEntriesPerFunction: number;
  /** Sum of message lengths kept per function. @default 2 MiB */
  maxBytesPerFunction: number;
  /** Longer messages are cut (and marked). @default 16 KiB */
  maxMessageBytes: number;
}

const DEFAULTS: LogBufferOptions = {
  maxEntriesPerFunction: 10_000,
  maxBytesPerFunction: 2 * 1024 * 1024,
  maxMessageBytes: 16 * 1024,
};

type Listener = (entry: LogEntry) => void;

/** A bounded queue of entries for one function: append at the end, evict from the front. */
class FunctionLog {
  private items: LogEntry[] = [];
  /** Index of the oldest live entry; the array is compacted when half of it is dead. */
  private start = 0;
  bytes = 0;
  readonly listeners = new Set<Listener>();

  get size(): number {
    return this.items.length - this.start;
  }

  push(entry: LogEntry): void {
    this.items.push(entry);
    this.bytes += entry.message.length;
  }

  evictOldest(): void {
    const oldest = this.items[this.start];
    if (!oldest) return;
    this.bytes -= oldest.message.length;
    this.start++;
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }

  ordered(): LogEntry[] {
    return this.items.slice(this.start);
  }

  clear(): void {
    this.items = [];
    this.start = 0;
    this.bytes = 0;
  }
}

/**
 * Function output: kept on disk by `files` when given (surviving restarts), else in memory,
 * bounded per function so a function that floods its output cannot grow platform memory;
 * followers are told of each new entry.
 */
export class LogBuffer implements LogSink {
  private readonly logs = new Map<string, FunctionLog>();
  private readonly options: LogBufferOptions;

  constructor(
    options: Partial<LogBufferOptions> = {},
    private readonly files?: LogFiles,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  append(entry: LogEntry): void {
    if (entry.message.length > this.options.maxMessageBytes) {
      entry = { ...entry, message: `${entry.message.slice(0, this.options.maxMessageBytes)}… [truncated]` };
    }
    let log = this.logs.get(entry.function);
    if (!log) {
      log = new FunctionLog();
      this.logs.set(entry.function, log);
    }
    // With files, the disk (and its pending batch) is the one copy; memory only tells followers.
    if (this.files) this.files.append(entry);
    else this.store(log, entry);
    for (const listener of log.listeners) listener(entry);
  }

  private store(log: FunctionLog, entry: LogEntry): void {
    log.push(entry);
    const { maxEntriesPerFunction, maxBytesPerFunction } = this.options;
    while (log.size > maxEntriesPerFunction || (log.bytes > maxBytesPerFunction && log.size > 1)) log.evictOldest();
  }

  /**
   * Entries of a function matching `filter`, oldest first, at most the newest `limit`: from disk
   * when kept there. Resolves in the tick the entries were taken, so subscribing right after
   * misses nothing.
   */
  read(fn: string, filter: LogFilter = {}): Promise<LogEntry[]> {
    return this.files ? this.files.read(fn, filter) : Promise.resolve(this.query(fn, filter));
  }

  /** In-memory entries of a function matching `filter` (none when kept on disk), oldest first, at most the newest `limit`. */
  query(fn: string, options: LogFilter = {}): LogEntry[] {
    const log = this.logs.get(fn);
    if (!log) return [];
    const since = options.since ?? 0;
    const id = options.invocationId;
    const matching = oldestFirst(log.ordered().filter((e) => e.time >= since && (id === undefined || e.invocationId === id)));
    return options.limit !== undefined && matching.length > options.limit ? matching.slice(-options.limit) : matching;
  }

  /** Calls `listener` for every new entry of `fn` until the returned function is called. */
  subscribe(fn: string, listener: Listener): () => void {
    let log = this.logs.get(fn);
    if (!log) {
      log = new FunctionLog();
      this.logs.set(fn, log);
    }
    const target = log;
    target.listeners.add(listener);
    return () => target.listeners.delete(listener);
  }

  /** Forgets a function's logs (on delete), on disk too; followers stay subscribed to a fresh log. */
  drop(fn: string): void {
    const log = this.logs.get(fn);
    log?.clear();
    void this.files?.remove(fn);
  }

  /** Writes what is pending to disk. */
  async close(): Promise<void> {
    await this.files?.close();
  }
}
