/**
 * The queue contract: durable, at-least-once delivery of opaque work items, fair across
 * partitions. Shaped after nats.js JetStream messages (ack / nak(delay) / working / term) so a
 * JetStream implementation can pass the same contract suite (test/queue/queue-contract.ts) as the
 * embedded SQLite one. Nothing here knows about SQLite, HTTP or invocations: the payload is bytes.
 */

/** A unit of work to enqueue. */
export interface QueueItem {
  /**
   * Unique id of the item (the invocation id). Enqueueing an id that is still in the queue keeps
   * the queued item as it is, so a caller unsure whether its enqueue landed can simply repeat it.
   * Once acked or given up the id is gone; deduplicating across that is the caller's job.
   */
  id: string;
  /**
   * Fairness key (the function name): leases rotate across partitions with due work, and the
   * in-flight limit, {@link Queue.remove} and {@link Queue.depth} work per partition.
   */
  partition: string;
  /** The work itself, opaque to the queue (the stored request). */
  payload: Buffer;
  /**
   * Epoch milliseconds before which the item is not handed out.
   * @default now: due at once
   */
  notBefore?: number;
}

/** An item as the queue hands it out. */
export interface QueuedItem {
  /** As given to {@link Queue.enqueue}. */
  id: string;
  /** As given to {@link Queue.enqueue}. */
  partition: string;
  /** As given to {@link Queue.enqueue}. */
  payload: Buffer;
  /** Epoch milliseconds at which the item was first enqueued (for a maximum event age). */
  enqueuedAt: number;
}

/**
 * One delivery of an item. While the lease is held (until `expiresAt`, or until it is settled)
 * no other lease gets the item. Settle it exactly once with ack, retryLater or giveUp; a lease
 * not settled in time is delivered again, to anyone, with the attempt number raised.
 */
export interface Lease {
  /** The delivered item. */
  readonly item: QueuedItem;
  /** Which delivery this is: 1 the first time, +1 for each redelivery (timeout or retryLater). */
  readonly attempt: number;
  /**
   * Identifies this delivery. Settling with a token that is no longer the item's (the item was
   * redelivered after this lease timed out, or was already settled) is refused, so a slow worker
   * cannot ack or fail a newer delivery of the same item.
   */
  readonly token: string;
  /** Epoch milliseconds at which the item becomes deliverable again unless settled or extended. */
  readonly expiresAt: number;
}

/** What {@link Queue.lease} hands out. */
export interface LeaseOptions {
  /**
   * How long the leased items stay invisible to other leases (JetStream's ack wait), in ms.
   * Must exceed the time the work may take, or be kept alive with {@link Queue.extend}.
   */
  visibilityMs: number;
  /**
   * At most this many items in this call.
   * @default 1
   */
  max?: number;
  /**
   * The most items of one partition that may be leased (handed out, not yet settled nor expired)
   * at once, counting those leased by earlier calls: a number for every partition, or a function
   * answering per partition (undefined: no limit). Used for per-function async concurrency.
   * @default no limit
   */
  maxInFlight?: number | ((partition: string) => number | undefined);
}

/** Items of a partition (or of the whole queue) by state, for scaling on backlog. */
export interface QueueDepth {
  /** Deliverable now (including items whose lease expired unsettled). */
  due: number;
  /** Waiting for `notBefore` or a retry delay. */
  delayed: number;
  /** Handed out and neither settled nor expired. */
  leased: number;
}

/**
 * A durable work queue. Every method is asynchronous so that implementations over a network
 * (JetStream) fit; an implementation orders the calls of one client as they were made.
 *
 * Settling methods answer `false` instead of throwing for a stale lease: to a worker that is an
 * expected outcome (its work will be, or was, redone), not an error.
 */
export interface Queue {
  /**
   * Stores the items durably. Resolves only once they would survive the process being killed;
   * rejects if they were not stored. Items with the same id as a queued item are left out.
   */
  enqueue(items: readonly QueueItem[]): Promise<void>;

  /**
   * Stores the items durably like {@link enqueue}, but an item whose id is still in the queue
   * (due, delayed or leased) is replaced rather than kept: it takes the new payload and due time,
   * its attempt count and enqueue time start over, and a lease held on it turns stale (its
   * settles answer false). For a redrive, which queues a dead letter again under its id: the
   * worker that made it dead may not have given its lease up yet, and that late giveUp must not
   * take the redriven work with it. Triggers and the acceptor use {@link enqueue}, whose same-id
   * rule deduplicates.
   */
  requeue(items: readonly QueueItem[]): Promise<void>;

  /**
   * Leases up to `max` due items, oldest due first within a partition, rotating across the
   * partitions that have due work so one partition's backlog cannot starve another's. Answers an
   * empty list when nothing is due (or every partition with due work is at its in-flight limit),
   * and fewer than `max` only when it took every item leasable at the time: a caller need not
   * ask again until something changes (an enqueue, an ack, a delay passing).
   */
  lease(options: LeaseOptions): Promise<Lease[]>;

  /** The work is done: the item leaves the queue (JetStream's ack). False if the lease is stale. */
  ack(lease: Lease): Promise<boolean>;

  /**
   * The attempt failed and should be retried: the item becomes due again `delayMs` after now, and
   * its next delivery has the next attempt number (JetStream's nak with a delay). False if stale.
   */
  retryLater(lease: Lease, delayMs: number): Promise<boolean>;

  /**
   * No more attempts: the item leaves the queue for good (JetStream's term). The caller records
   * the dead letter elsewhere (the invocation record), so the queue keeps no copy. False if stale.
   */
  giveUp(lease: Lease): Promise<boolean>;

  /**
   * The work is still in progress: the lease now expires `ms` after now (JetStream's working).
   * The lease's token stays valid; its `expiresAt` field is not updated. False if stale.
   */
  extend(lease: Lease, ms: number): Promise<boolean>;

  /**
   * Drops every item of the partition, leased or not (a removed function's work); later settles
   * of their leases answer false. Answers how many items were dropped.
   */
  remove(partition: string): Promise<number>;

  /** Counts items by state, of one partition or of the whole queue. */
  depth(partition?: string): Promise<QueueDepth>;

  /**
   * Finishes the calls already made (their promises settle), then releases the queue; later
   * calls reject with SHUTTING_DOWN. Closing twice is harmless.
   */
  close(): Promise<void>;
}
