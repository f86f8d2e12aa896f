import type { Clock } from '../core/clock.js';

/** A pending deadline; `cancel` it when the work ends first. */
export interface Deadline {
  cancel(): void;
}

/** One deadline of a {@link DeadlineList}: a node of a doubly linked list. */
class Entry implements Deadline {
  prev: Entry | undefined;
  next: Entry | undefined;

  constructor(
    readonly at: number,
    readonly fire: () => void,
    /** The list it is in; undefined once it fired or was cancelled. */
    public list: DeadlineList | undefined,
  ) {}

  cancel(): void {
    unlink(this);
  }
}

/** Deadlines of one duration: appended in time order, so they expire in list order. */
interface DeadlineList {
  head: Entry | undefined;
  tail: Entry | undefined;
}

/**
 * The deadlines of every invocation in progress, on one clock timer. Invocations of one function
 * share a timeout, so the deadlines of each duration are kept in a list that is already sorted by
 * expiry; adding and cancelling are O(1) and allocate one small entry. The timer is armed for the
 * earliest head; a cancelled head leaves it armed (it fires, finds nothing due, and re-arms), so a
 * request that ends in time never touches the timer. This replaces a timer per invocation, which
 * cost ~0.5 µs of the gateway's CPU per request in Node (setTimeout plus clearTimeout).
 */
export class DeadlineTimers {
  private readonly lists = new Map<number, DeadlineList>();
  private cancelTimer: (() => void) | undefined;
  /** When the armed timer fires, on the clock's monotonic scale; Infinity when none is armed. */
  private armedAt = Number.POSITIVE_INFINITY;

  constructor(private readonly clock: Clock) {}

  /** Calls `fire` once `ms` milliseconds have passed, unless the returned deadline is cancelled. */
  add(ms: number, fire: () => void): Deadline {
    let list = this.lists.get(ms);
    if (list === undefined) {
      list = { head: undefined, tail: undefined };
      this.lists.set(ms, list);
    }
    const entry = new Entry(this.clock.monotonic() + ms, fire, list);
    entry.prev = list.tail;
    if (list.tail) list.tail.next = entry;
    else list.head = entry;
    list.tail = entry;
    if (entry.at < this.armedAt) this.arm(entry.at);
    return entry;
  }

  /** Deadlines still pending (for tests and diagnostics). */
  get size(): number {
    let count = 0;
    for (const list of this.lists.values()) for (let e = list.head; e; e = e.next) count++;
    return count;
  }

  /** Stops the timer; pending deadlines never fire. */
  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    for (const list of this.lists.values()) while (list.head) unlink(list.head);
    this.lists.clear();
  }

  private arm(at: number): void {
    this.cancelTimer?.();
    this.armedAt = at;
    this.cancelTimer = this.clock.after(Math.max(0, at - this.clock.monotonic()), () => this.expire());
  }

  /** Fires every deadline that is due, then re-arms for the earliest one left. */
  private expire(): void {
    this.cancelTimer = undefined;
    this.armedAt = Number.POSITIVE_INFINITY;
    const now = this.clock.monotonic();
    const due: Entry[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [ms, list] of this.lists) {
      while (list.head && list.head.at <= now) {
        due.push(list.head);
        unlink(list.head);
      }
      if (list.head) next = Math.min(next, list.head.at);
      else this.lists.delete(ms); // durations no longer in use do not pile up
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    // Fired last: a callback may add or cancel deadlines.
    for (const entry of due) entry.fire();
  }
}

function unlink(entry: Entry): void {
  const list = entry.list;
  if (!list) return; // fired or cancelled already
  if (entry.prev) entry.prev.next = entry.next;
  else list.head = entry.next;
  if (entry.next) entry.next.prev = entry.prev;
  else list.tail = entry.prev;
  entry.prev = entry.next = entry.list = undefined;
}
