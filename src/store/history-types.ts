import type { ErrorCode } from '../core/errors.js';
import type { InvocationSource } from '../core/invocation.js';
import type { RecordBatch } from './record-batch.js';

/** What one attempt used (or, summed, an invocation's attempts). Durations in milliseconds. */
export interface MeteredFigures {
  /** From the invoker taking the invocation to its end (queue, start and handler). */
  durationMs: number;
  /** Start and handler time (what an instance was busy with it), rounded up to the millisecond. */
  billedMs: number;
  memoryMb: number;
  /** memoryMb / 1024 × billedMs / 1000. */
  gbSeconds: number;
  /** CPU time the runtime reported; undefined when it reported none (docs/metering.md). */
  cpuMs?: number | undefined;
  bytesIn: number;
  bytesOut: number;
  coldStart: boolean;
  queueMs: number;
  startMs: number;
  handlerMs: number;
}

/**
 * One attempt of an invocation as the history keeps it: what ran, for how long, what it cost.
 * Sync and trigger invocations have one attempt; each attempt of an async invocation has its own
 * record (same id, attempt counting up), which the listing folds into the async invocation's own
 * record instead of listing it. Times are epoch milliseconds; durations milliseconds.
 */
export interface HistoryRecord extends MeteredFigures {
  id: string;
  attempt: number;
  function: string;
  version: number;
  source: InvocationSource;
  /** The request's method, and its path with query (cut at 1000 characters). */
  method: string;
  path: string;
  startedAt: number;
  endedAt: number;
  /** As in the invocation-ended event: the function answered, the platform answered with an error, or the caller left first. */
  outcome: 'response' | 'error' | 'abandoned';
  /** `succeeded`: the function answered with a status below 400; `failed`: anything else. */
  status: 'succeeded' | 'failed';
  /** The function's HTTP status, when it answered. */
  httpStatus?: number | undefined;
  /** The platform's error code, when it answered instead. */
  errorCode?: ErrorCode | undefined;
}

/** Which records {@link HistoryRepository.list} answers, newest first (by startedAt, then id). */
export interface HistoryQuery {
  function?: string;
  status?: 'succeeded' | 'failed';
  /** The sources to list; the listing of the API asks for http and trigger (async has its own records). */
  sources: readonly InvocationSource[];
  /** Started at or after (epoch ms). */
  since?: number;
  /** Started at or before (epoch ms). */
  until?: number;
  /** 1 to 1001 (a page of the API and one more). */
  limit: number;
  /** Continue after this point (the last record of the previous page). */
  after?: { startedAt: number; id: string };
}

/**
 * The metering of an async invocation: its attempts' figures added up (cpuMs undefined when none
 * reported it), the last one's timings and cold flag.
 */
export interface AttemptTotals extends MeteredFigures {
  id: string;
  attempts: number;
  source: InvocationSource;
}

/** The figures of the ledger, for one key (a function, an hour, a day) or the total. */
export interface UsageFigures {
  invocations: number;
  errors: number;
  gbSeconds: number;
  cpuSeconds: number;
  billedMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** A question to the ledger: hours whose start lies in [since, until), grouped by `by`. */
export interface UsageQuery {
  since: number;
  until: number;
  by: 'function' | 'hour' | 'day';
  function?: string;
}

/** Bounds of what the history keeps (see {@link HistoryRepository.sweep}). */
export interface HistoryRetention {
  /** Raw records started longer ago than this are removed. */
  retainMs: number;
  /** At most this many raw records are kept, the earliest started going first. */
  maxRecords: number;
  /** Hourly roll-ups older than this are removed (at least 400 days). */
  ledgerRetainMs: number;
}

/**
 * The invocation history and the metering ledger. `append` writes a batch of records and adds
 * them into the hourly roll-ups in ONE transaction: the ledger never counts a record the history
 * lost, nor the reverse. Every implementation passes test/store/history-contract.ts.
 */
export interface HistoryRepository {
  /**
   * Stores the records and adds them to the ledger, all or none; a record already stored (same id
   * and attempt) is skipped, in both, except a sync record with a UUIDv7 id made as it started,
   * which its invoker appends once and which is not looked for among earlier ones.
   */
  append(records: readonly HistoryRecord[]): Promise<void>;
  /** {@link append} of records already packed (what the history thread receives). */
  appendBatch(batch: RecordBatch): Promise<void>;
  list(query: HistoryQuery): Promise<HistoryRecord[]>;
  /** The last attempt's record of `id`, or undefined. */
  get(id: string): Promise<HistoryRecord | undefined>;
  /** The added-up attempts of each id that has any (async invocations). */
  totalsOf(ids: readonly string[]): Promise<Map<string, AttemptTotals>>;
  /** Ledger rows by key (ascending), and their total. */
  usage(query: UsageQuery): Promise<{ rows: Array<UsageFigures & { key: string }>; total: UsageFigures }>;
  /** Removes every raw record of `fn` (the function was removed; its ledger rows stay); answers how many. */
  deleteFunction(fn: string): Promise<number>;
  /** Removes expired and excess raw records and expired roll-ups; answers how many raw records went. */
  sweep(now: number, retention: HistoryRetention): Promise<number>;
  /** Later calls reject with SHUTTING_DOWN. */
  close(): Promise<void>;
}
