import { appendFile, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { type LogEntry, oldestFirst } from './logs.js';

/** What to read of a function's log. */
export interface LogFilter {
  /** Entries at or after this epoch ms. */
  since?: number;
  /** At most the newest `limit` entries. */
  limit?: number;
  /** Only the lines of this invocation. */
  invocationId?: string;
}

/** Options of {@link LogFiles}. */
export interface LogFilesOptions {
  /** Folder holding one folder per function (`<dataDir>/logs`). */
  dir: string;
  /** Bytes kept per function across its segments; the oldest segment goes first. */
  retentionBytes: number;
  clock: Clock;
  /** Reports a failed write or removal (the lines are lost; invocations go on). */
  onError(err: unknown): void;
  /** Pending lines are written this often (ms). @default 100 */
  flushIntervalMs?: number;
  /** A function's pending lines are written at once past this many bytes. @default 64 KiB */
  flushBytes?: number;
  /**
   * Most bytes of a function's lines waiting for the disk; past it new lines are dropped (and
   * counted in a line of their own), so output faster than the disk cannot grow memory. @default 8 MiB
   */
  maxPendingBytes?: number;
}

/** Segments per function: `current.jsonl` and up to this many minus one rotated ones. */
export const LOG_SEGMENTS = 4;
const CURRENT = 'current.jsonl';
/** Rotated segments: `segment-<n>.jsonl`, `n` counting up, so names sort by age once zero-padded. */
const ROTATED = /^segment-(\d{12})\.jsonl$/;

/** One line on disk: the entry without its function (the folder names it). */
interface StoredLine {
  time: number;
  invocationId: string | null;
  stream: 'stdout' | 'stderr';
  message: string;
}

/** What is known of one function's files. */
interface FunctionFiles {
  pending: LogEntry[];
  pendingBytes: number;
  /** Bytes in `current.jsonl`; undefined until first looked at. */
  currentBytes: number | undefined;
  /** Whether the next write must start with a newline (the file ends in a torn line). */
  needsNewline: boolean;
  /** Lines dropped since the last write, for want of room in `pending`. */
  dropped: number;
  /** A write of the pending lines is queued on `chain`. */
  flushQueued: boolean;
  /** Writes, reads and the removal of this function, one at a time, in order. */
  chain: Promise<void>;
}

/**
 * Function output kept on disk, as JSON lines per function under `dir/<function>/`: appended
 * to `current.jsonl` in batches (every `flushIntervalMs`, or sooner past `flushBytes`; never a
 * write per line, never an fsync, so a crash loses at most the last batch), rotated into
 * `segment-<n>.jsonl` when a quarter of the retention is reached, the oldest dropped beyond
 * {@link LOG_SEGMENTS} segments. A line torn by a crash is skipped on reading.
 */
export class LogFiles {
  private readonly functions = new Map<string, FunctionFiles>();
  private readonly segmentBytes: number;
  private readonly flushIntervalMs: number;
  private readonly flushBytes: number;
  private readonly maxPendingBytes: number;
  private cancelTimer: (() => void) | undefined;

  constructor(private readonly options: LogFilesOptions) {
    this.segmentBytes = Math.floor(options.retentionBytes / LOG_SEGMENTS);
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.flushBytes = options.flushBytes ?? 64 * 1024;
    this.maxPendingBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
  }

  /** Queues a line (no I/O here: the hot path of a chatty function). */
  append(entry: LogEntry): void {
    const files = this.filesOf(entry.function);
    const bytes = entry.message.length + 80;
    if (files.pendingBytes + bytes > this.maxPendingBytes) {
      files.dropped++;
      return;
    }
    files.pending.push(entry);
    files.pendingBytes += bytes;
    if (files.pendingBytes >= this.flushBytes) this.flushFunction(entry.function, files);
    else this.cancelTimer ??= this.options.clock.after(this.flushIntervalMs, () => this.flushAll());
  }

  /**
   * Entries of `fn` matching `filter`, oldest first: the segments newest first until `limit`
   * is reached (at most the retention is read), then what is still pending. Waits for the
   * function's writes in progress, and takes the pending lines in the same tick it resolves,
   * so a caller that subscribes right after misses nothing.
   */
  async read(fn: string, filter: LogFilter = {}): Promise<LogEntry[]> {
    const files = this.filesOf(fn);
    let fromDisk: LogEntry[] = [];
    const reading = files.chain.then(async () => {
      fromDisk = await this.readSegments(fn, filter);
    });
    files.chain = reading.catch(() => undefined);
    await reading;
    const pending = files.pending.filter((e) => matches(e, filter));
    const all = oldestFirst(fromDisk.concat(pending));
    return filter.limit !== undefined && all.length > filter.limit ? all.slice(-filter.limit) : all;
  }

  /** Deletes a function's files (and what is pending for it), after the writes queued before. */
  remove(fn: string): Promise<void> {
    const files = this.filesOf(fn);
    files.pending = [];
    files.pendingBytes = 0;
    files.dropped = 0;
    files.chain = files.chain
      .then(async () => {
        await rm(this.dirOf(fn), { recursive: true, force: true });
        files.currentBytes = undefined;
        files.needsNewline = false;
      })
      .catch((err: unknown) => this.options.onError(err));
    return files.chain;
  }

  /** Writes what is pending and stops the timer. */
  async close(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.flushAll();
    await Promise.all([...this.functions.values()].map((files) => files.chain));
  }

  private filesOf(fn: string): FunctionFiles {
    let files = this.functions.get(fn);
    if (!files) {
      files = { pending: [], pendingBytes: 0, currentBytes: undefined, needsNewline: false, dropped: 0, flushQueued: false, chain: Promise.resolve() };
      this.functions.set(fn, files);
    }
    return files;
  }

  private dirOf(fn: string): string {
    return join(this.options.dir, fn);
  }

  private flushAll(): void {
    this.cancelTimer = undefined;
    for (const [fn, files] of this.functions) if (files.pending.length > 0) this.flushFunction(fn, files);
  }

  /**
   * Queues a write of what is pending when its turn comes: the lines stay pending (and readable)
   * until then, so a read queued before it sees them either there or on disk.
   */
  private flushFunction(fn: string, files: FunctionFiles): void {
    if (files.flushQueued) return;
    files.flushQueued = true;
    files.chain = files.chain
      .then(() => {
        files.flushQueued = false;
        const batch = files.pending;
        if (files.dropped > 0) batch.push(droppedNotice(fn, files.dropped, batch.at(-1)?.time ?? this.options.clock.now()));
        files.pending = [];
        files.pendingBytes = 0;
        files.dropped = 0;
        return batch.length === 0 ? undefined : this.write(fn, files, batch);
      })
      .catch((err: unknown) => this.options.onError(err));
  }

  /**
   * Appends one batch to the current segment, rotating whenever the next line would grow it past
   * its share of the retention (a line longer than a share gets a segment of its own).
   */
  private async write(fn: string, files: FunctionFiles, batch: LogEntry[]): Promise<void> {
    const dir = this.dirOf(fn);
    if (files.currentBytes === undefined) await this.inspectCurrent(dir, files);
    let chunk = '';
    let chunkBytes = 0;
    for (const entry of batch) {
      const text = lineOf(entry);
      const bytes = Buffer.byteLength(text);
      const filled = files.currentBytes! + chunkBytes;
      if (filled > 0 && filled + bytes > this.segmentBytes) {
        await this.appendCurrent(dir, files, chunk);
        await this.rotate(dir, files);
        chunk = '';
        chunkBytes = 0;
      }
      chunk += text;
      chunkBytes += bytes;
    }
    await this.appendCurrent(dir, files, chunk);
  }

  private async appendCurrent(dir: string, files: FunctionFiles, text: string): Promise<void> {
    if (text === '') return;
    const data = files.needsNewline ? `\n${text}` : text;
    await appendFile(join(dir, CURRENT), data);
    files.needsNewline = false;
    files.currentBytes! += Buffer.byteLength(data);
  }

  /** Size of the current segment, and whether a crash left its last line torn. */
  private async inspectCurrent(dir: string, files: FunctionFiles): Promise<void> {
    await mkdir(dir, { recursive: true });
    const size = await stat(join(dir, CURRENT)).then((s) => s.size, () => 0);
    files.currentBytes = size;
    if (size === 0) return;
    const handle = await open(join(dir, CURRENT), 'r');
    try {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      files.needsNewline = last[0] !== 0x0a;
    } finally {
      await handle.close();
    }
  }

  private async rotate(dir: string, files: FunctionFiles): Promise<void> {
    const rotated = await rotatedSegments(dir);
    const next = rotated.length === 0 ? 1 : rotated[rotated.length - 1]!.n + 1;
    await rename(join(dir, CURRENT), join(dir, segmentName(next)));
    // Keep LOG_SEGMENTS - 1 rotated segments besides the new current one.
    for (const old of [...rotated, { n: next, name: segmentName(next) }].slice(0, -(LOG_SEGMENTS - 1))) {
      await unlink(join(dir, old.name)).catch(() => undefined);
    }
    files.currentBytes = 0;
    files.needsNewline = false;
  }

  private async readSegments(fn: string, filter: LogFilter): Promise<LogEntry[]> {
    const dir = this.dirOf(fn);
    const names = [...(await rotatedSegments(dir)).map((s) => s.name), CURRENT].reverse();
    const chunks: LogEntry[][] = [];
    let found = 0;
    for (const name of names) {
      const text = await readFile(join(dir, name), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      const entries = parseLines(text, fn, filter);
      chunks.unshift(entries);
      found += entries.length;
      if (filter.limit !== undefined && found >= filter.limit) break;
    }
    return chunks.flat();
  }
}

/** The line that stands for lines dropped while the disk lagged behind. */
function droppedNotice(fn: string, count: number, time: number): LogEntry {
  return { time, function: fn, invocationId: null, stream: 'stderr', message: `[nimbus] ${count} line${count === 1 ? '' : 's'} dropped: the function wrote faster than its log could be saved` };
}

function segmentName(n: number): string {
  return `segment-${String(n).padStart(12, '0')}.jsonl`;
}

/** The rotated segments of a folder, oldest first. */
async function rotatedSegments(dir: string): Promise<{ n: number; name: string }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .map((name) => ({ name, match: ROTATED.exec(name) }))
    .filter((s) => s.match !== null)
    .map((s) => ({ n: Number(s.match![1]), name: s.name }))
    .sort((a, b) => a.n - b.n);
}

function lineOf(entry: LogEntry): string {
  const line: StoredLine = { time: entry.time, invocationId: entry.invocationId, stream: entry.stream, message: entry.message };
  return `${JSON.stringify(line)}\n`;
}

/** The entries of one segment that match; lines that do not parse (torn by a crash) are skipped. */
function parseLines(text: string, fn: string, filter: LogFilter): LogEntry[] {
  const out: LogEntry[] = [];
  const wanted = filter.invocationId === undefined ? undefined : JSON.stringify(filter.invocationId);
  for (const line of text.split('\n')) {
    if (line === '' || (wanted !== undefined && !line.includes(wanted))) continue;
    let stored: StoredLine;
    try {
      stored = JSON.parse(line) as StoredLine;
    } catch {
      continue;
    }
    if (typeof stored.time !== 'number' || typeof stored.message !== 'string') continue;
    const entry: LogEntry = { time: stored.time, function: fn, invocationId: stored.invocationId ?? null, stream: stored.stream === 'stderr' ? 'stderr' : 'stdout', message: stored.message };
    if (matches(entry, filter)) out.push(entry);
  }
  return out;
}

function matches(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.since !== undefined && entry.time < filter.since) return false;
  return filter.invocationId === undefined || entry.invocationId === filter.invocationId;
}
