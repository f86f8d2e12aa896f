import { v7 as timeOrderedUuid } from 'uuid';
import { IDEMPOTENCY_WINDOW_MS, type InvocationStatus } from '../api/wire.js';
import type { Clock } from '../core/clock.js';
import type { Queue } from '../queue/types.js';
import type { InvocationRecord, InvocationRepository } from '../store/invocation-types.js';
import { encodeStoredRequest, type EveryField, type StoredRequest } from './stored-request.js';

/** What the acceptor needs. */
export interface AsyncAcceptorDeps {
  queue: Queue;
  invocations: InvocationRepository;
  clock: Clock;
  /** Told that `fn` has new due work (wakes the dispatcher, so an idle platform starts it at once). */
  onAccepted(fn: string): void;
}

/** A request to queue: everything but the acceptance time, which the acceptor sets. */
export type AcceptRequest = Omit<StoredRequest, 'acceptedAt'> & {
  idempotencyKey?: string | undefined;
  /**
   * The invocation id, chosen by the caller so that it is the same each time one event is offered
   * (a trigger's event: the trigger and the event id). An invocation with this id already stored
   * answers instead, and a crash between the queue write and the record write cannot make a second
   * one: the queue keeps an id it holds, and the record is created once. Default: a new UUIDv7.
   */
  id?: string | undefined;
};

/** The answer to an accepted request. */
export interface Accepted {
  id: string;
  /** `queued` for a new invocation; for a repeated idempotency key, the first invocation's status now. */
  status: InvocationStatus;
  /** True when an earlier invocation with the same idempotency key answered instead. */
  repeated: boolean;
}

/**
 * Takes async invocations in: stores the request durably in the queue, then its record in the
 * store, and only then answers (the 202). The queue is written first so that a crash between the
 * two writes can only leave work without a record (the dispatcher creates it when it runs the
 * work), never a record whose work is gone; the caller got no 202 in either case.
 *
 * Idempotency keys: a key already used for the function within 24 hours answers the first
 * invocation's id. A caller-chosen id (a trigger's event) already stored answers that invocation.
 * Requests with the same key or id in flight at once in this process wait for the first one, so
 * they cannot both be stored.
 */
export class AsyncAcceptor {
  /** Keys (`<fn>\0<key>`) and chosen ids (`\0id\0<id>`) being accepted now, and what they will answer. */
  private readonly accepting = new Map<string, Promise<Accepted>>();

  constructor(private readonly deps: AsyncAcceptorDeps) {}

  /** Stores the request; resolves once it would survive the platform being killed. */
  async accept(request: AcceptRequest): Promise<Accepted> {
    // The common 202 (no key, no chosen id) has nothing to look up or wait for.
    const [accepted] = slotOf(request) === undefined ? await this.storeMany([request]) : await this.acceptBatch([request]);
    return accepted!;
  }

  /**
   * Stores several requests in one go: the lookups of their keys and chosen ids first, then every
   * new request in ONE queue enqueue (in the order given, so the queue keeps it) and ONE records
   * create, so a batch costs one group commit (one fsync) instead of one per request. Answers one
   * {@link Accepted} per request, in order. A key or id repeated within the batch, stored earlier,
   * or being accepted now by another call answers that invocation and stores nothing. All or
   * nothing: when the enqueue fails, none of the batch is stored and the promise rejects.
   */
  async acceptBatch(requests: readonly AcceptRequest[]): Promise<Accepted[]> {
    const answers = new Array<Promise<Accepted> | undefined>(requests.length);
    /** The keys and ids this call claimed, by request index: their waiters hear from this call. */
    const claims = new Map<number, { slot: string; settle: Deferred<Accepted> }>();
    const claimedSlots = new Map<string, Promise<Accepted>>();
    requests.forEach((request, index) => {
      const slot = slotOf(request);
      if (slot === undefined) return;
      const first = claimedSlots.get(slot) ?? this.accepting.get(slot);
      if (first) {
        answers[index] = first.then((accepted) => ({ ...accepted, repeated: true }));
        return;
      }
      const settle = deferred<Accepted>();
      claims.set(index, { slot, settle });
      claimedSlots.set(slot, settle.promise);
      this.accepting.set(slot, settle.promise);
      answers[index] = settle.promise;
    });
    try {
      const since = this.deps.clock.now() - IDEMPOTENCY_WINDOW_MS;
      const claimed = [...claims.keys()];
      const earlier = await Promise.all(claimed.map((index) => this.earlierAnswer(requests[index]!, since)));
      claimed.forEach((index, i) => {
        const answer = earlier[i];
        if (answer) claims.get(index)!.settle.resolve(answer);
      });
      const fresh = new Set(claimed.filter((_, i) => earlier[i] === undefined));
      const toStore = requests.map((_, index) => index).filter((index) => answers[index] === undefined || fresh.has(index));
      const stored = await this.storeMany(toStore.map((index) => requests[index]!));
      toStore.forEach((index, i) => {
        const claim = claims.get(index);
        if (claim) claim.settle.resolve(stored[i]!);
        else answers[index] = Promise.resolve(stored[i]!);
      });
    } catch (err) {
      for (const { settle } of claims.values()) settle.reject(err);
      // The caller hears the error once, from here; the answers nobody will wait for are dropped.
      for (const answer of answers) answer?.catch(() => undefined);
      throw err;
    } finally {
      for (const { slot, settle } of claims.values()) if (this.accepting.get(slot) === settle.promise) this.accepting.delete(slot);
    }
    return Promise.all(answers as Array<Promise<Accepted>>);
  }

  /** The invocation stored earlier with `request`'s chosen id, or with its key within the window, if any. */
  private async earlierAnswer(request: AcceptRequest, since: number): Promise<Accepted | undefined> {
    const { invocations } = this.deps;
    if (request.id !== undefined) {
      const record = await invocations.get(request.id);
      return record ? { id: request.id, status: record.status, repeated: true } : undefined;
    }
    const earlier = await invocations.findByIdempotencyKey(request.function, request.idempotencyKey!, since);
    if (earlier === undefined) return undefined;
    const record = await invocations.get(earlier);
    return record ? { id: earlier, status: record.status, repeated: true } : undefined;
  }

  /**
   * Writes new requests: one enqueue, then one create, in the order given. A chosen id the queue
   * holds already (a crash after its write, before the record's) is kept as it is, and its record
   * created once.
   */
  private async storeMany(requests: readonly AcceptRequest[]): Promise<Accepted[]> {
    if (requests.length === 0) return [];
    const { queue, invocations, clock } = this.deps;
    const acceptedAt = clock.now();
    // Time-ordered (UUIDv7) when the caller chose none: new records land at the end of the
    // store's indexes instead of at random places, which keeps the accept path's writes cheap.
    // The key travels with the queued request too: a worker that runs the work before the record
    // below is written creates that record, and it must hold the key for a repeat to find it.
    const items = requests.map((request) => {
      const stored: StoredRequest & EveryField<StoredRequest> = {
        function: request.function,
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body,
        acceptedAt,
        callbackUrl: request.callbackUrl,
        idempotencyKey: request.idempotencyKey,
        source: request.source,
        trigger: request.trigger,
        traceContext: request.traceContext,
      };
      return { id: request.id ?? timeOrderedUuid(), stored };
    });
    await queue.enqueue(items.map(({ id, stored }) => ({ id, partition: stored.function, payload: encodeStoredRequest(stored) })));
    await invocations.create(items.map(({ id, stored }) => queuedRecord(id, stored)));
    for (const fn of new Set(requests.map((r) => r.function))) this.deps.onAccepted(fn);
    return items.map(({ id }) => ({ id, status: 'queued' as const, repeated: false }));
  }
}

/** Where a request waits for another one in flight: its chosen id, else its function and key; undefined: it never waits. */
function slotOf(request: AcceptRequest): string | undefined {
  if (request.id !== undefined) return `\0id\0${request.id}`;
  if (request.idempotencyKey !== undefined) return `${request.function}\0${request.idempotencyKey}`;
  return undefined;
}

/** A promise with its settlers, for callers waiting on a key a batch is accepting. */
interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  // Nobody may be waiting on the slot: a failure is the batch caller's to hear, not unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The record of a just-accepted invocation (also made by the dispatcher when one is missing). */
export function queuedRecord(id: string, request: Omit<StoredRequest, 'body'>): InvocationRecord {
  const record: InvocationRecord = {
    id,
    function: request.function,
    status: 'queued',
    attempts: 0,
    createdAt: request.acceptedAt,
    method: request.method,
    path: request.path,
  };
  if (request.idempotencyKey !== undefined) record.idempotencyKey = request.idempotencyKey;
  if (request.trigger !== undefined) record.trigger = request.trigger;
  return record;
}
