import type { Accepted, AsyncAcceptor } from '../async/acceptor.js';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import type { Queue } from '../queue/types.js';
import { cloudEventRequest, eventInvocationId } from './cloudevent-request.js';
import type { EventSink, TriggerEvent } from './types.js';

/** What a trigger's sink needs from the platform. */
export interface TriggerSinkDeps {
  acceptor: Pick<AsyncAcceptor, 'acceptBatch'>;
  /** The async queue (its per-function depth is the backlog). */
  queue: Pick<Queue, 'depth'>;
  /** Whether the function exists now: deliveries to a removed function are refused. */
  functionExists(name: string): boolean | Promise<boolean>;
  clock: Clock;
  /** A function's async backlog (due + delayed + leased) below which its triggers may deliver. */
  backlog: number;
  /** How often `whenRoom` looks at the backlog again while it is full. */
  pollMs: number;
}

/**
 * Events a trigger's sink took, by outcome: plain numbers, read by the metrics at scrape time.
 * `delivered`: stored as a new async invocation; `duplicate`: an event id the trigger delivered
 * already (answered by the first invocation, nothing stored); `refused`: not taken (the function
 * was removed, the trigger is stopping, the store failed), so its source does not acknowledge it.
 */
export interface TriggerEventCounts {
  delivered: number;
  duplicate: number;
  refused: number;
}

/** Counts starting at zero. */
export function zeroCounts(): TriggerEventCounts {
  return { delivered: 0, duplicate: 0, refused: 0 };
}

/**
 * The sink of one trigger: each event becomes one async invocation of the trigger's function,
 * accepted through the AsyncAcceptor (queue first, then the record) as a CloudEvents 1.0
 * binary-mode `POST /`, with invocation source `trigger`. Retries and dead letters then follow the
 * function's async policy.
 *
 * Duplicates: the invocation id is made from the trigger and the event id, so an event delivered
 * again (a broker's redelivery after a crash) answers the first invocation and stores nothing, for
 * as long as its record is kept (nimbus up --retain), also when the platform was killed between
 * the queue write and the record write.
 *
 * A batch (a source's pull of up to 64 messages) is accepted in one go, in one group commit (one
 * fsync), with the queue keeping the events' order; it is taken or refused as a whole.
 */
export class TriggerSink implements EventSink {
  private closed = false;
  /** Ends the current wait of `whenRoom` early (on close). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly deps: TriggerSinkDeps,
    private readonly trigger: { name: string; function: string },
    /** Where the outcome of each event is counted. */
    readonly counts: TriggerEventCounts = zeroCounts(),
  ) {}

  async deliver(events: TriggerEvent[]): Promise<void> {
    try {
      const answers = await this.accept(events);
      for (const { repeated } of answers) {
        if (repeated) this.counts.duplicate++;
        else this.counts.delivered++;
      }
    } catch (err) {
      this.counts.refused += events.length;
      throw err;
    }
  }

  private async accept(events: TriggerEvent[]): Promise<Accepted[]> {
    const { acceptor, clock } = this.deps;
    const { name, function: fn } = this.trigger;
    if (this.closed) throw new NimbusError('SHUTTING_DOWN', `Trigger "${name}" is stopping; its events are not taken now.`);
    if (!(await this.deps.functionExists(fn))) {
      throw new NimbusError('FUNCTION_NOT_FOUND', `The function "${fn}" of trigger "${name}" was removed; its events are not taken.`);
    }
    const now = clock.now();
    // One batch: one enqueue in the order the source gave them, so the queue keeps that order.
    return acceptor.acceptBatch(
      events.map((event) => ({ function: fn, ...cloudEventRequest(name, event, now), source: 'trigger' as const, trigger: name, id: eventInvocationId(name, event.id) })),
    );
  }

  async whenRoom(): Promise<void> {
    while (!this.closed && !(await this.hasRoom())) {
      await new Promise<void>((resolve) => {
        const cancel = this.deps.clock.after(this.deps.pollMs, resolve);
        this.wake = () => (cancel(), resolve());
      });
      this.wake = undefined;
    }
  }

  /**
   * Called before the trigger's source is stopped: a wait for room ends at once (so the source's
   * stop does not wait for a backlog to drain), and later deliveries are refused (not acknowledged,
   * so a broker keeps them).
   */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private async hasRoom(): Promise<boolean> {
    const { due, delayed, leased } = await this.deps.queue.depth(this.trigger.function);
    return due + delayed + leased < this.deps.backlog;
  }
}
