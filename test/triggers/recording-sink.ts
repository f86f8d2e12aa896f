/**
 * Test doubles of the platform side of a trigger source (our own interfaces, not a broker): a sink
 * that records what it is given and can refuse or hold back, one that refuses everything, a status
 * that records reports, a state kept in memory, and a source context made of them.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { NimbusError } from '../../src/core/errors.js';
import type { EventSink, SourceContext, SourceState, SourceStatus, TriggerEvent } from '../../src/triggers/types.js';

/** Records delivered events; `refuse(n)` makes the next n deliveries fail; `full()` holds `whenRoom`. */
export class RecordingSink implements EventSink {
  readonly events: TriggerEvent[] = [];
  /** Every call to deliver, refused ones too. */
  calls = 0;
  private refusals = 0;
  private room: { promise: Promise<void>; open: () => void } | undefined;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  async deliver(events: TriggerEvent[]): Promise<void> {
    this.calls++;
    if (this.refusals > 0) {
      this.refusals--;
      throw new NimbusError('INTERNAL', 'the test sink refuses this delivery');
    }
    this.events.push(...events);
    this.waiters = this.waiters.filter((w) => (this.events.length >= w.count ? (w.resolve(), false) : true));
  }

  whenRoom(): Promise<void> {
    return this.room?.promise ?? Promise.resolve();
  }

  /** The next `count` deliveries throw (the source must not acknowledge them). */
  refuse(count: number): void {
    this.refusals = count;
  }

  /** Holds `whenRoom` until `makeRoom` is called. */
  full(): void {
    if (this.room) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.room = { promise, open };
  }

  makeRoom(): void {
    const room = this.room;
    this.room = undefined;
    room?.open();
  }

  /** Resolves once at least `count` events were delivered; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<TriggerEvent[]> {
    if (this.events.length >= count) return Promise.resolve(this.events);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.events.length} of ${count} events arrived in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(this.events)) });
    });
  }
}

/** Records the reports of a source; `waitFor` resolves once the state was reported. */
export class RecordingStatus implements SourceStatus {
  readonly reports: Array<{ state: 'active' | 'failing'; reason?: string }> = [];
  private waiters: Array<{ state: 'active' | 'failing'; resolve: () => void }> = [];

  active(): void {
    this.report({ state: 'active' });
  }

  failing(reason: string): void {
    this.report({ state: 'failing', reason });
  }

  /** The last report, if any. */
  get last(): { state: 'active' | 'failing'; reason?: string } | undefined {
    return this.reports.at(-1);
  }

  /** Resolves once the last report is `state`; rejects after `timeoutMs`. */
  waitFor(state: 'active' | 'failing', timeoutMs = 10_000): Promise<void> {
    if (this.last?.state === state) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the source did not report ${state} within ${timeoutMs} ms (reports: ${JSON.stringify(this.reports)})`)), timeoutMs);
      this.waiters.push({ state, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  private report(report: { state: 'active' | 'failing'; reason?: string }): void {
    this.reports.push(report);
    this.waiters = this.waiters.filter((w) => (w.state === report.state ? (w.resolve(), false) : true));
  }
}

/** A source's durable memory, kept in a Map (JSON round-tripped, as a store would). */
export class MemoryState implements SourceState {
  readonly values = new Map<string, string>();

  async get<T>(key: string): Promise<T | undefined> {
    const value = this.values.get(key);
    return value === undefined ? undefined : (JSON.parse(value) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    this.values.set(key, JSON.stringify(value));
  }
}

/** Records every event it is handed, and refuses them all. */
export class RefusingSink implements EventSink {
  readonly offered: TriggerEvent[] = [];
  private waiter: (() => void) | undefined;
  deliver(events: TriggerEvent[]): Promise<void> {
    this.offered.push(...events);
    this.waiter?.();
    return Promise.reject(new Error('the test sink refuses'));
  }
  whenRoom(): Promise<void> {
    return Promise.resolve();
  }
  offeredOnce(): Promise<void> {
    return this.offered.length > 0 ? Promise.resolve() : new Promise((resolve) => (this.waiter = resolve));
  }
}

/** What a test may set in a source's context; the rest is a fresh trigger name, recorders and the system clock. */
export interface ContextParts {
  sink?: EventSink;
  trigger?: string;
  state?: SourceState;
  secrets?: Record<string, string>;
}

const quiet = pino({ level: 'silent' });

/** A source's context for a test, and the status recorder in it. */
export function sourceContext<Settings>(settings: Settings, parts: ContextParts = {}): { context: SourceContext<Settings>; status: RecordingStatus } {
  const { sink = new RecordingSink(), trigger = `t-${randomUUID().slice(0, 8)}`, state = new MemoryState(), secrets = {} } = parts;
  const status = new RecordingStatus();
  return { context: { trigger, function: 'target', settings, sink, status, state, clock: systemClock, logger: quiet, secrets }, status };
}
