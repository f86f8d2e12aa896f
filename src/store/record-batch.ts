import type { ErrorCode } from '../core/errors.js';
import type { InvocationSource } from '../core/invocation.js';
import type { HistoryRecord, UsageFigures } from './history-types.js';
import { uuidV7TimeOfBytes } from './time-ordered-id.js';

/**
 * Slots per record in {@link RecordBatch.numbers}. Strings that repeat (function, method, source,
 * outcome, status, error code) are stored as indexes into the batch's `dict`; the id and path, which
 * do not, as UTF-8 in `text`, at the offset held in slot TEXT_AT.
 */
const SLOTS = 24;
const ATTEMPT = 0, VERSION = 1, STARTED = 2, ENDED = 3, DURATION = 4, BILLED = 5, MEMORY = 6, GB_SECONDS = 7, CPU = 8;
const BYTES_IN = 9, BYTES_OUT = 10, COLD = 11, QUEUE = 12, START = 13, HANDLER = 14, HTTP_STATUS = 15;
const FUNCTION = 16, METHOD = 17, SOURCE = 18, OUTCOME = 19, STATUS = 20, ERROR_CODE = 21, TEXT_AT = 22;
/** 1 when the store finds the record by its segment's id range instead of an id row (set by the store). */
const BY_RANGE = 23;
/** Records a new batch has room for before it grows (doubling). */
const INITIAL_RECORDS = 64;

/**
 * History records packed into two typed arrays and a small dictionary: the form in which the
 * gateway hands records to the history thread (both arrays' buffers are transferred, not copied,
 * and no per-record object stays alive on the event loop until the batch is written) and in which
 * history.db stores them (a segment row holds one function's batch as is). See docs/metering.md.
 */
export interface RecordBatch {
  count: number;
  /** {@link SLOTS} numbers per record; NaN for an absent cpuMs or httpStatus, -1 for no error code. */
  numbers: Float64Array;
  /** Per record: id length (uint32 LE), id, path length, path; UTF-8. */
  text: Uint8Array;
  dict: string[];
}

/** Packs records into a {@link RecordBatch}, one batch at a time. */
export class RecordBatchBuilder {
  private numbers: Float64Array = new Float64Array(0);
  private text: Buffer = Buffer.alloc(0);
  /**
   * The memory of a batch already written, given back by {@link recycle}: the next batch fills it.
   * A fresh buffer costs a page fault per 4 KB as it is first written (about a microsecond per
   * record on the event loop, more than packing the record); memory in use again costs none.
   */
  private spare: { numbers: Float64Array; text: Buffer } | undefined;
  /** Records and text bytes the last batch held: the next one starts with room for as many (no growing step by step). */
  private lastCount = 0;
  private lastTextLength = 0;
  private textLength = 0;
  private dict: string[] = [];
  private readonly dictIndex = new Map<string, number>();
  /** Per slot, the last value interned and its index (see intern). */
  private readonly lastValues: Array<string | undefined> = new Array<string | undefined>(SLOTS).fill(undefined);
  private readonly lastIndexes = new Int32Array(SLOTS);
  private count = 0;

  /** Records added since the last {@link take}. */
  get length(): number {
    return this.count;
  }

  /** Packs one record; answers how many the batch holds now. */
  add(r: HistoryRecord): number {
    if ((this.count + 1) * SLOTS > this.numbers.length) this.growNumbers();
    const n = this.numbers;
    const o = this.count * SLOTS;
    n[o + ATTEMPT] = r.attempt;
    n[o + VERSION] = r.version;
    n[o + STARTED] = r.startedAt;
    n[o + ENDED] = r.endedAt;
    n[o + DURATION] = r.durationMs;
    n[o + BILLED] = r.billedMs;
    n[o + MEMORY] = r.memoryMb;
    n[o + GB_SECONDS] = r.gbSeconds;
    n[o + CPU] = r.cpuMs ?? NaN;
    n[o + BYTES_IN] = r.bytesIn;
    n[o + BYTES_OUT] = r.bytesOut;
    n[o + COLD] = r.coldStart ? 1 : 0;
    n[o + QUEUE] = r.queueMs;
    n[o + START] = r.startMs;
    n[o + HANDLER] = r.handlerMs;
    n[o + HTTP_STATUS] = r.httpStatus ?? NaN;
    n[o + FUNCTION] = this.intern(FUNCTION, r.function);
    n[o + METHOD] = this.intern(METHOD, r.method);
    n[o + SOURCE] = this.intern(SOURCE, r.source);
    n[o + OUTCOME] = this.intern(OUTCOME, r.outcome);
    n[o + STATUS] = this.intern(STATUS, r.status);
    n[o + ERROR_CODE] = r.errorCode === undefined ? -1 : this.intern(ERROR_CODE, r.errorCode);
    n[o + TEXT_AT] = this.textLength;
    n[o + BY_RANGE] = 0;
    this.writeText(r.id);
    this.writeText(r.path);
    return ++this.count;
  }

  /** The batch packed so far (undefined when empty); the builder starts a new one. */
  take(): RecordBatch | undefined {
    if (this.count === 0) return undefined;
    const batch: RecordBatch = {
      count: this.count,
      numbers: this.numbers.subarray(0, this.count * SLOTS),
      text: new Uint8Array(this.text.buffer, this.text.byteOffset, this.textLength),
      dict: this.dict,
    };
    this.lastCount = this.count;
    this.lastTextLength = this.textLength;
    this.numbers = this.spare?.numbers ?? new Float64Array(0);
    this.text = this.spare?.text ?? Buffer.alloc(0);
    this.spare = undefined;
    this.textLength = 0;
    this.dict = [];
    this.dictIndex.clear();
    this.lastValues.fill(undefined);
    this.count = 0;
    return batch;
  }

  /**
   * Takes back the memory of a batch once it is written (the history thread transfers the buffers
   * back), for the next batch to fill. One pair is kept: the larger of what is offered.
   */
  recycle(numbers: ArrayBuffer, text: ArrayBuffer): void {
    if (this.count === 0 && numbers.byteLength > this.numbers.byteLength) {
      // Nothing packed yet: the batch being started can fill it already.
      this.numbers = new Float64Array(numbers);
      this.text = Buffer.from(text);
      this.textLength = 0;
      return;
    }
    if (this.spare && this.spare.numbers.byteLength >= numbers.byteLength) return;
    this.spare = { numbers: new Float64Array(numbers), text: Buffer.from(text) };
  }

  /**
   * The dictionary index of `value`. Consecutive records mostly repeat the last value of each slot
   * (same function, method, source...), so that is compared first, before the map.
   */
  private intern(slot: number, value: string): number {
    if (this.lastValues[slot] === value) return this.lastIndexes[slot]!;
    let index = this.dictIndex.get(value);
    if (index === undefined) {
      index = this.dict.push(value) - 1;
      this.dictIndex.set(value, index);
    }
    this.lastValues[slot] = value;
    this.lastIndexes[slot] = index;
    return index;
  }

  private writeText(value: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; room is made before writing, so nothing is cut.
    const most = 4 + value.length * 3;
    if (this.textLength + most > this.text.length) {
      // Never allocUnsafe: a pooled buffer's memory could not be transferred. allocUnsafeSlow has
      // a memory of its own and skips zero-filling bytes that are written before they are read.
      // A quarter more than the last batch used leaves room for the worst case of its last records.
      const grown = Buffer.allocUnsafeSlow(Math.max(4096, this.lastTextLength + (this.lastTextLength >> 2), 2 * (this.textLength + most)));
      this.text.copy(grown, 0, 0, this.textLength);
      this.text = grown;
    }
    const text = this.text;
    const at = this.textLength;
    const written = asciiInto(text, at + 4, value) ?? text.write(value, at + 4, 'utf8');
    text[at] = written & 0xff;
    text[at + 1] = (written >>> 8) & 0xff;
    text[at + 2] = (written >>> 16) & 0xff;
    text[at + 3] = written >>> 24;
    this.textLength = at + 4 + written;
  }

  private growNumbers(): void {
    const grown = new Float64Array(Math.max(INITIAL_RECORDS, this.lastCount, (this.numbers.length / SLOTS) * 2) * SLOTS);
    grown.set(this.numbers);
    this.numbers = grown;
  }
}

/** Strings longer than this go straight to `Buffer.write` (its call costs less than a long loop). */
const ASCII_LOOP_MAX = 128;

/**
 * Copies a short all-ASCII `value` into `bytes` at `at` (its UTF-8 form, byte for byte) and answers
 * its length; answers undefined, having written nothing meaningful, for a longer string or one with
 * any other character. A record's id and most paths are short ASCII, and for them this loop costs
 * a fraction of `Buffer.write`'s argument checks and encoding dispatch, on every invocation's path.
 */
function asciiInto(bytes: Uint8Array, at: number, value: string): number | undefined {
  const length = value.length;
  if (length > ASCII_LOOP_MAX) return undefined;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0x7f) return undefined;
    bytes[at + i] = code;
  }
  return length;
}

/** Packs records into one batch. */
export function batchOf(records: readonly HistoryRecord[]): RecordBatch | undefined {
  const builder = new RecordBatchBuilder();
  for (const record of records) builder.add(record);
  return builder.take();
}

/** Reads the records of a batch, field by field or whole. */
export class RecordBatchReader {
  readonly count: number;
  private readonly n: Float64Array;
  private readonly text: Buffer;

  constructor(readonly batch: RecordBatch) {
    this.count = batch.count;
    this.n = batch.numbers;
    this.text = Buffer.from(batch.text.buffer, batch.text.byteOffset, batch.text.byteLength);
  }

  /** A batch from stored bytes (copied: SQLite's blobs need not be aligned for a Float64Array). */
  static stored(numbers: Uint8Array, text: Uint8Array, dict: string): RecordBatchReader {
    const copy = new Uint8Array(numbers);
    const n = new Float64Array(copy.buffer, 0, copy.byteLength / 8);
    return new RecordBatchReader({ count: n.length / SLOTS, numbers: n, text, dict: JSON.parse(dict) as string[] });
  }

  id(i: number): string {
    return this.textAt(this.n[i * SLOTS + TEXT_AT]!);
  }

  attempt(i: number): number {
    return this.n[i * SLOTS + ATTEMPT]!;
  }

  startedAt(i: number): number {
    return this.n[i * SLOTS + STARTED]!;
  }

  function(i: number): string {
    return this.string(i, FUNCTION);
  }

  source(i: number): InvocationSource {
    return this.string(i, SOURCE) as InvocationSource;
  }

  status(i: number): HistoryRecord['status'] {
    return this.string(i, STATUS) as HistoryRecord['status'];
  }

  /**
   * The milliseconds record `i`'s id was made at when it is a UUIDv7 (see time-ordered-id.ts),
   * read from the batch's bytes without making the id's string.
   */
  uuidV7Time(i: number): number | undefined {
    const at = this.n[i * SLOTS + TEXT_AT]!;
    return this.text.readUInt32LE(at) === 36 ? uuidV7TimeOfBytes(this.text, at + 4) : undefined;
  }

  /** Whether the store finds record `i` by its segment's id range (see SqliteHistory). */
  byRange(i: number): boolean {
    return this.n[i * SLOTS + BY_RANGE] === 1;
  }

  /** Marks record `i` as found by its segment's id range. */
  markByRange(i: number): void {
    this.n[i * SLOTS + BY_RANGE] = 1;
  }

  /** Adds record `i` into a ledger row's figures (without making the record). */
  addUsage(i: number, sum: UsageFigures): void {
    const o = i * SLOTS;
    const n = this.n;
    sum.invocations++;
    if (this.string(i, STATUS) === 'failed') sum.errors++;
    sum.gbSeconds += n[o + GB_SECONDS]!;
    if (!Number.isNaN(n[o + CPU])) sum.cpuSeconds += n[o + CPU]! / 1000;
    sum.billedMs += n[o + BILLED]!;
    sum.bytesIn += n[o + BYTES_IN]!;
    sum.bytesOut += n[o + BYTES_OUT]!;
  }

  /** The whole record at `i`. */
  record(i: number): HistoryRecord {
    const n = this.n;
    const o = i * SLOTS;
    const idAt = n[o + TEXT_AT]!;
    const id = this.textAt(idAt);
    const record: HistoryRecord = {
      id,
      attempt: n[o + ATTEMPT]!,
      function: this.string(i, FUNCTION),
      version: n[o + VERSION]!,
      source: this.string(i, SOURCE) as InvocationSource,
      method: this.string(i, METHOD),
      path: this.textAt(idAt + 4 + this.text.readUInt32LE(idAt)),
      startedAt: n[o + STARTED]!,
      endedAt: n[o + ENDED]!,
      durationMs: n[o + DURATION]!,
      billedMs: n[o + BILLED]!,
      memoryMb: n[o + MEMORY]!,
      gbSeconds: n[o + GB_SECONDS]!,
      bytesIn: n[o + BYTES_IN]!,
      bytesOut: n[o + BYTES_OUT]!,
      coldStart: n[o + COLD] === 1,
      queueMs: n[o + QUEUE]!,
      startMs: n[o + START]!,
      handlerMs: n[o + HANDLER]!,
      outcome: this.string(i, OUTCOME) as HistoryRecord['outcome'],
      status: this.string(i, STATUS) as HistoryRecord['status'],
    };
    if (!Number.isNaN(n[o + CPU])) record.cpuMs = n[o + CPU]!;
    if (!Number.isNaN(n[o + HTTP_STATUS])) record.httpStatus = n[o + HTTP_STATUS]!;
    if (n[o + ERROR_CODE]! >= 0) record.errorCode = this.string(i, ERROR_CODE) as ErrorCode;
    return record;
  }

  /** The records at `rows`, in that order, as a batch of their own (the text is repacked, the dictionary kept). */
  select(rows: readonly number[]): RecordBatch {
    const numbers = new Float64Array(rows.length * SLOTS);
    let textBytes = 0;
    for (const i of rows) textBytes += this.textSpan(i);
    const text = Buffer.alloc(textBytes);
    let at = 0;
    rows.forEach((i, k) => {
      numbers.set(this.n.subarray(i * SLOTS, (i + 1) * SLOTS), k * SLOTS);
      const from = this.n[i * SLOTS + TEXT_AT]!;
      const span = this.textSpan(i);
      this.text.copy(text, at, from, from + span);
      numbers[k * SLOTS + TEXT_AT] = at;
      at += span;
    });
    return { count: rows.length, numbers, text, dict: this.batch.dict };
  }

  /** The rows of each function, in batch order. */
  rowsByFunction(): Map<string, number[]> {
    const groups = new Map<string, number[]>();
    for (let i = 0; i < this.count; i++) {
      const fn = this.function(i);
      const rows = groups.get(fn);
      if (rows) rows.push(i);
      else groups.set(fn, [i]);
    }
    return groups;
  }

  /** Bytes of record `i`'s id and path in `text`. */
  private textSpan(i: number): number {
    const idAt = this.n[i * SLOTS + TEXT_AT]!;
    const pathAt = idAt + 4 + this.text.readUInt32LE(idAt);
    return pathAt + 4 + this.text.readUInt32LE(pathAt) - idAt;
  }

  private textAt(at: number): string {
    return this.text.toString('utf8', at + 4, at + 4 + this.text.readUInt32LE(at));
  }

  private string(i: number, slot: number): string {
    return this.batch.dict[this.n[i * SLOTS + slot]!]!;
  }
}

/** The bytes of a batch's numbers, for storing (a view, not a copy). */
export function numberBytes(batch: RecordBatch): Buffer {
  return Buffer.from(batch.numbers.buffer, batch.numbers.byteOffset, batch.numbers.byteLength);
}

/** The bytes of a batch's text, for storing (a view, not a copy). */
export function textBytes(batch: RecordBatch): Buffer {
  return Buffer.from(batch.text.buffer, batch.text.byteOffset, batch.text.byteLength);
}
