import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Lease, Queue } from '../queue/types.js';

/** How often the queue is asked for work that fell due (retries, expired leases) without a wake-up. */
export const POLL_INTERVAL_MS = 100;
/**
 * How long a leased invocation stays invisible to other leases, beyond its function's timeout:
 * the attempt is over by then (the invoker's deadline covers the wait for capacity and the
 * handler), so a lease still unsettled belongs to a worker that died.
 */
const LEASE_MARGIN_MS = 10_000;
/**
 * The visibility every lease starts with; items of functions with longer timeouts are extended
 * once. Long is cheap: leases a dead platform held are released when the queue opens again.
 */
const LEASE_VISIBILITY_MS = 60_000 + LEASE_MARGIN_MS;
/**
 * A partition near its concurrency is refilled once this share of its slots is free (an eighth:
 * 8 of 64), not after every item: each lease costs the same few index reads and a commit whether
 * it takes one item or eight, and a function draining at its concurrency would otherwise pay a
 * lease per item (measured on a drain of 10,000 at 64: leases took some 6% of the event loop, and
 * the drain ran about 10% faster refilled eight at a time). Partitions of concurrency 8 or less
 * refill at every free slot.
 */
const REFILL_SHARE = 8;
/** How long a free slot waits at most for the others of its refill (when items end slowly). */
export const REFILL_WAIT_MS = 5;

/** Runs one leased item of a partition. */
export interface PartitionHandler {
  run(lease: Lease): Promise<void>;
  /** How many of the partition's items may run at once; undefined: no limit of its own. */
  concurrency(partition: string): number | undefined;
  /** How long a lease of the partition needs before it is settled (the function's timeout). */
  leaseMs(partition: string): number;
}

/** What the dispatcher needs. */
export interface DispatcherDeps {
  queue: Queue;
  clock: Clock;
  logger: Logger;
  /** Most items running at once, across every partition (`nimbus up --async-workers`). */
  workers: number;
  /** Who runs the items of a partition: callbacks have their own, every other partition is a function's. */
  handlerFor(partition: string): PartitionHandler;
}

/**
 * Keeps up to `workers` queued items running: leases due items (the queue rotates across
 * partitions, so one function's backlog cannot hold back another's, and stops at each
 * partition's concurrency), hands each to its partition's handler, and leases more as they end.
 * It wakes when work is accepted (an idle platform starts it at once) and polls for work that
 * falls due later (retries).
 */
export class AsyncDispatcher {
  private running = 0;
  /** Items running now by partition: how much of each partition's concurrency this dispatcher holds. */
  private readonly runningIn = new Map<string, number>();
  private pumping = false;
  private wakeAgain = false;
  private stopped = false;
  private stopPolling: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Cancels the pending wake of a partial refill, while one is pending. */
  private cancelRefill: (() => void) | undefined;

  constructor(private readonly deps: DispatcherDeps) {}

  /** Starts polling, and runs what is due now. */
  start(): void {
    this.stopPolling = this.deps.clock.every(POLL_INTERVAL_MS, () => this.wake());
    this.wake();
  }

  /** There may be due work: lease it (coalesced with a lease already in progress). */
  wake(): void {
    if (this.stopped) return;
    // This wake leases whatever a pending partial refill was waiting for.
    this.cancelRefill?.();
    this.cancelRefill = undefined;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    void this.pump();
  }

  /**
   * Work for `partition` was accepted: wakes the dispatcher, unless it already runs as many of the
   * partition's items as the partition's concurrency allows. A lease would then give none of them
   * (the queue counts the same leases), and under a steady intake that lease would run for every
   * request. Near its concurrency, the wake waits for a refill's worth of room (see
   * {@link REFILL_SHARE}). The item runs when one of the partition's slots frees, which wakes the
   * dispatcher; other partitions' due work is found by that wake or the poll. Also called when the
   * partition's concurrency may have been raised (a deploy; from 0, its held work is released).
   */
  accepted(partition: string): void {
    this.wakeFor(partition);
  }

  /** Items running now. */
  get active(): number {
    return this.running;
  }

  /** Leases no more work; what runs goes on (see {@link drained}). */
  stop(): void {
    this.stopped = true;
    this.stopPolling?.();
    this.cancelRefill?.();
  }

  /**
   * Work arrived for `partition` or one of its slots freed: wakes at once when it has room for a
   * refill (see {@link REFILL_SHARE}), within {@link REFILL_WAIT_MS} when it has room for less,
   * and not at all when it has none (a lease would give none of its items; the slot that frees
   * wakes it).
   */
  private wakeFor(partition: string): void {
    const limit = this.deps.handlerFor(partition).concurrency(partition);
    if (limit === undefined) return this.wake();
    const free = limit - (this.runningIn.get(partition) ?? 0);
    if (free <= 0) return;
    if (free >= Math.ceil(limit / REFILL_SHARE)) return this.wake();
    this.cancelRefill ??= this.deps.clock.after(REFILL_WAIT_MS, () => {
      this.cancelRefill = undefined;
      this.wake();
    });
  }

  /** Resolves when every item that was running has finished. */
  async drained(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.wakeAgain = false;
        while (!this.stopped && this.running < this.deps.workers) {
          const max = this.deps.workers - this.running;
          const leases = await this.deps.queue.lease({
            visibilityMs: LEASE_VISIBILITY_MS,
            max,
            maxInFlight: (partition) => this.deps.handlerFor(partition).concurrency(partition),
          });
          for (const lease of leases) this.begin(lease);
          // Fewer than asked for: nothing else was leasable (the Queue contract), so another lease
          // now would come back empty. What arrives meanwhile sets wakeAgain. When a partition at
          // concurrency 1 drains, this halves the leases: one per item instead of two.
          if (leases.length < max) break;
        }
      } while (this.wakeAgain && !this.stopped && this.running < this.deps.workers);
    } catch (err) {
      if (!this.stopped) this.deps.logger.error({ err }, 'leasing async work failed; retrying at the next poll');
    } finally {
      this.pumping = false;
    }
  }

  private begin(lease: Lease): void {
    const { partition } = lease.item;
    this.running++;
    this.runningIn.set(partition, (this.runningIn.get(partition) ?? 0) + 1);
    const run = this.runOne(lease).finally(() => {
      this.running--;
      const left = this.runningIn.get(partition)! - 1;
      if (left === 0) this.runningIn.delete(partition);
      else this.runningIn.set(partition, left);
      this.inFlight.delete(run);
      this.wakeFor(partition);
    });
    this.inFlight.add(run);
  }

  private async runOne(lease: Lease): Promise<void> {
    const handler = this.deps.handlerFor(lease.item.partition);
    try {
      const needed = handler.leaseMs(lease.item.partition) + LEASE_MARGIN_MS;
      if (needed > LEASE_VISIBILITY_MS) await this.deps.queue.extend(lease, needed);
      await handler.run(lease);
    } catch (err) {
      // Unsettled, the item is leased again when its lease expires: at-least-once, never lost.
      if (!this.stopped) this.deps.logger.error({ err, id: lease.item.id, partition: lease.item.partition }, 'an async work item failed; it runs again when its lease expires');
    }
  }
}
