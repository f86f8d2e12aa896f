import type { ErrorCode } from '../core/errors.js';
import type { InvocationStatus } from '../api/wire.js';

export type { InvocationStatus };

/** A function's response as an invocation record keeps it. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** At most the first 1 MiB of the body (the caller cuts it). */
  body: Buffer;
  /** The function answered more than `body` holds. */
  truncated: boolean;
}

/**
 * An async invocation as the store keeps it: where it is, and how its last attempt went. The
 * work itself (the request) is in the queue while the invocation is pending; the record keeps a
 * copy (`request`) only once it has ended failed or dead, for redrive and destinations.
 * Times are epoch milliseconds.
 */
export interface InvocationRecord {
  id: string;
  function: string;
  /** The function version of the last attempt; undefined before the first. */
  version?: number | undefined;
  status: InvocationStatus;
  /** Attempts started so far. */
  attempts: number;
  createdAt: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  nextAttemptAt?: number | undefined;
  /** The platform error of the last attempt, when it ended with one. */
  error?: { code: ErrorCode; message: string } | undefined;
  /** The function's response to the last attempt, when it answered. */
  response?: StoredResponse | undefined;
  /** The request's method and path (with query), for listings. */
  method: string;
  path: string;
  /** Set when the caller sent an `Idempotency-Key`. */
  idempotencyKey?: string | undefined;
  /** The trigger whose event this is (src/triggers); undefined for other invocations. */
  trigger?: string | undefined;
  /** The encoded request (src/async/stored-request.ts), kept once the invocation is failed or dead. */
  request?: Buffer | undefined;
}

/** The fields an update may change (the rest are fixed at creation). Undefined values clear the field. */
export type InvocationChanges = Partial<
  Pick<InvocationRecord, 'version' | 'status' | 'attempts' | 'startedAt' | 'finishedAt' | 'nextAttemptAt' | 'error' | 'response' | 'request'>
>;

/** Which records {@link InvocationRepository.list} answers, newest first. */
export interface InvocationQuery {
  function?: string;
  status?: InvocationStatus;
  /** At most this many: an integer from 1 to 1000 (others are refused with a RangeError). */
  limit: number;
  /** Continue after this point: the `next` of the previous page. */
  after?: InvocationCursor;
}

/** Where a listing stopped: the last record's creation time and id (the sort key). */
export interface InvocationCursor {
  createdAt: number;
  id: string;
}

/** A page of {@link InvocationRepository.list}. */
export interface InvocationPage {
  records: InvocationRecord[];
  /**
   * Set when more records followed this page at the time of the call (never on the last page,
   * even a full one): pass it as `after`.
   */
  next?: InvocationCursor;
}

/** Bounds on what the store keeps of ended invocations (see sweep). Each is >= 0; Infinity: no bound. */
export interface InvocationRetention {
  /** Ended (succeeded, failed) records finished longer ago than this are removed. */
  retainMs: number;
  /**
   * At most this many ended (succeeded, failed) records are kept; the earliest finished go first
   * (one without finishedAt counts as the earliest).
   */
  maxEnded: number;
  /** At most this many dead letters per function are kept; the oldest (by createdAt) go first. */
  maxDeadPerFunction: number;
}

/**
 * Async invocation records. Every implementation passes test/store/invocation-contract.ts.
 *
 * Records are copies: changing one, or a record passed in (even before its call has resolved),
 * changes nothing stored. Fields without a value are absent from the records answered, not
 * present as undefined. Calls take effect in the order they are made: each sees every `create`
 * made before it, resolved or not. Once the store is closed, every call rejects with
 * SHUTTING_DOWN; creates called before the close are still stored.
 */
export interface InvocationRepository {
  /**
   * Stores new records, all of them or (rejecting) none; a record whose id is already stored is
   * left as it is (so a worker may create the record of an invocation whose acceptance was cut
   * short). Resolves once the records are committed: they survive the process being killed.
   * Creates made close together may share one transaction (the accept path's throughput depends
   * on it), each call still stored or refused on its own.
   */
  create(records: readonly InvocationRecord[]): Promise<void>;
  /** The record, or undefined. Includes `request` and the response body. */
  get(id: string): Promise<InvocationRecord | undefined>;
  /**
   * Applies the changes to a stored record; false when there is none (e.g. its function was
   * removed). Only the fields present in `changes` are written (`'field' in changes`): an
   * undefined value clears that field, except `status` and `attempts`, which every record has
   * (clearing them is refused and changes nothing).
   */
  update(id: string, changes: InvocationChanges): Promise<boolean>;
  /**
   * The id of the newest record (by createdAt, then id) of `fn` created at or after `since` with
   * this idempotency key, or undefined.
   */
  findByIdempotencyKey(fn: string, key: string, since: number): Promise<string | undefined>;
  /**
   * Records newest first (by createdAt, then id, both descending), filtered, one page at a time.
   * Listed records leave `request` out (it can be large, and only redrive needs it); they keep
   * the response.
   */
  list(query: InvocationQuery): Promise<InvocationPage>;
  /**
   * Dead letters of `fn` (all, or those of `ids`: ids unknown, of another function or not dead
   * are left out), with their requests, oldest first (by createdAt, then id).
   */
  listDead(fn: string, ids?: readonly string[]): Promise<InvocationRecord[]>;
  /** Removes the dead letters of `fn`; answers how many. */
  purgeDead(fn: string): Promise<number>;
  /** Removes every record of `fn` (the function was removed); answers how many. */
  deleteFunction(fn: string): Promise<number>;
  /**
   * Removes what retention no longer keeps, rule after rule: ended records finished before
   * `now - retainMs` (strictly), then the earliest finished ended records beyond `maxEnded`, then
   * the oldest dead letters of each function beyond `maxDeadPerFunction`. Pending records
   * (queued, running, retrying) are never removed. Answers how many records went in all.
   */
  sweep(now: number, retention: InvocationRetention): Promise<number>;
  /** Counts records by status, of one function or all; every status is present (0 when none). */
  countByStatus(fn?: string): Promise<Record<InvocationStatus, number>>;
}
