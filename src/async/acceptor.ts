import { v7 as timeOrderedUuid } from 'uuid';
import { IDEMPOTENCY_WINDOW_MS, type InvocationStatus } from '../api/wire.js';
import type { Clock } from '../core/clock.js';
import type { Queue } from '../queue/types.js';
import type { InvocationRecord, InvocationRepository } from '../store/invocation-types.js';
import { encodeStoredRequest, type StoredRequest } from './stored-request.js';

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
 * invocation's id. Requests with the same key in flight at once in this process wait for the
 * first one, so they cannot both be stored.
 */
export class AsyncAcceptor {
  /** Idempotency keys (`<fn>\0<key>`) being accepted now, and the id they will answer. */
  private readonly accepting = new Map<string, Promise<Accepted>>();

  constructor(private readonly deps: AsyncAcceptorDeps) {}

  /** Stores the request; resolves once it would survive the platform being killed. */
  async accept(request: AcceptRequest): Promise<Accepted> {
    if (request.id !== undefined) return this.acceptWithId(request, request.id);
    const key = request.idempotencyKey;
    if (key === undefined) return this.store(request);
    const slot = `${request.function}\0${key}`;
    const inFlight = this.accepting.get(slot);
    if (inFlight) return { ...(await inFlight), repeated: true };
    const accepting = this.acceptOnce(request, key);
    this.accepting.set(slot, accepting);
    try {
      return await accepting;
    } finally {
      this.accepting.delete(slot);
    }
  }

  private async acceptOnce(request: AcceptRequest, key: string): Promise<Accepted> {
    const { invocations, clock } = this.deps;
    const earlier = await invocations.findByIdempotencyKey(request.function, key, clock.now() - IDEMPOTENCY_WINDOW_MS);
    if (earlier !== undefined) {
      const record = await invocations.get(earlier);
      if (record) return { id: earlier, status: record.status, repeated: true };
    }
    return this.store(request);
  }

  /** A caller-chosen id: the invocation stored with it answers, else it is stored (once, whatever happens between). */
  private async acceptWithId(request: AcceptRequest, id: string): Promise<Accepted> {
    const earlier = await this.deps.invocations.get(id);
    if (earlier) return { id, status: earlier.status, repeated: true };
    return this.store(request, id);
  }

  private async store(request: AcceptRequest, chosenId?: string): Promise<Accepted> {
    const { queue, invocations, clock } = this.deps;
    // Time-ordered (UUIDv7): new records land at the end of the store's indexes instead of at
    // random places, which keeps the accept path's writes cheap, and ids sort by acceptance.
    const id = chosenId ?? timeOrderedUuid();
    const acceptedAt = clock.now();
    const { idempotencyKey, id: _chosen, ...stored } = request;
    await queue.enqueue([{ id, partition: request.function, payload: encodeStoredRequest({ ...stored, acceptedAt }) }]);
    await invocations.create([queuedRecord(id, { ...stored, acceptedAt }, idempotencyKey)]);
    this.deps.onAccepted(request.function);
    return { id, status: 'queued', repeated: false };
  }
}

/** The record of a just-accepted invocation (also made by the dispatcher when one is missing). */
export function queuedRecord(id: string, request: Omit<StoredRequest, 'body'>, idempotencyKey?: string): InvocationRecord {
  const record: InvocationRecord = {
    id,
    function: request.function,
    status: 'queued',
    attempts: 0,
    createdAt: request.acceptedAt,
    method: request.method,
    path: request.path,
  };
  if (idempotencyKey !== undefined) record.idempotencyKey = idempotencyKey;
  if (request.trigger !== undefined) record.trigger = request.trigger;
  return record;
}
