import type { Logger } from 'pino';
import type { ChangeFeed } from '../control/change-feed.js';
import type { Clock } from '../core/clock.js';
import type { TriggerRecord, TriggerRepository, TriggerStatus } from '../store/trigger-types.js';
import type { TriggerActivity } from '../telemetry/trigger-metrics.js';
import { TriggerSink, zeroCounts, type TriggerEventCounts, type TriggerSinkDeps } from './event-sink.js';
import type { EventSink, SourceKind, SourceState, SourceStatus, TriggerSource } from './types.js';

/** What the {@link TriggerManager} needs. */
export interface TriggerManagerDeps {
  triggers: TriggerRepository;
  kinds: ReadonlyMap<string, SourceKind<unknown>>;
  feed: Pick<ChangeFeed, 'subscribe'>;
  /** Decrypts the secrets a trigger's settings name (its broker URL). */
  secretValues(names: readonly string[]): Promise<Record<string, string>>;
  /** What every trigger's sink shares (the acceptor, the queue's depth, the backlog bound). */
  sink: TriggerSinkDeps;
  clock: Clock;
  logger: Logger;
}

/** One trigger's event counts, kept across restarts of its source (a change, a pause). */
interface CountsOf {
  function: string;
  kind: string;
  events: TriggerEventCounts;
}

/** One trigger this manager runs: its definition, its sink, and its source once started. */
interface Running {
  record: TriggerRecord;
  sink: TriggerSink;
  source?: TriggerSource | undefined;
  /** The last status written to the store, so a report that changes nothing writes nothing. */
  reported?: string | undefined;
}

/**
 * Runs the platform's triggers: at start it loads them and starts a source for each active one
 * (never waiting for a broker: a source reports `failing` and reconnects by itself), then follows
 * the change feed: a changed trigger's source is restarted, a paused or removed one stopped, and
 * a removed function's triggers stopped (the store removed them with it). Sources' status reports
 * are written to the store, where the API reads them. Changes to one trigger are applied one at a
 * time, in order.
 *
 * Kinds without `create` (the CloudEvents ingress's `event`) have no source: the ingress finds
 * their triggers with {@link triggersMatching} and delivers through {@link sinkFor}.
 */
export class TriggerManager {
  private readonly running = new Map<string, Running>();
  /** Per trigger, its events by outcome; dropped when the trigger is removed. */
  private readonly counts = new Map<string, CountsOf>();
  /** Per trigger, the change being applied; the next one waits for it. */
  private readonly applying = new Map<string, Promise<void>>();
  private unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(private readonly deps: TriggerManagerDeps) {}

  /** Loads the stored triggers, starts their sources (without waiting for any broker) and follows the feed. */
  async start(): Promise<void> {
    const { feed } = this.deps;
    this.unsubscribe = [
      feed.subscribe('trigger.changed', ({ record }) => this.apply(record.name)),
      feed.subscribe('trigger.removed', ({ name }) => this.apply(name)),
      feed.subscribe('function.removed', ({ name }) => this.functionRemoved(name)),
      feed.subscribe('secret.changed', ({ name }) => this.secretChanged(name)),
    ];
    for (const record of await this.deps.triggers.listTriggers()) void this.apply(record.name);
  }

  /** Active triggers of the `event` kind whose event type is `type` and whose source prefix matches `source`. */
  triggersMatching(type: string, source: string): TriggerRecord[] {
    return [...this.running.values()]
      .map(({ record }) => record)
      .filter((record) => {
        if (record.type !== 'event' || record.state !== 'active') return false;
        const { eventType, eventSource } = record.settings as { eventType?: string; eventSource?: string };
        return eventType === type && (eventSource === undefined || source.startsWith(eventSource));
      });
  }

  /** The sink of an active trigger (for kinds the platform feeds itself); undefined when it is not running. */
  sinkFor(name: string): EventSink | undefined {
    const running = this.running.get(name);
    return running?.record.state === 'active' ? running.sink : undefined;
  }

  /**
   * Every trigger this manager runs, with its status and events by outcome (read by the metrics at
   * scrape time): `starting` until its source reports, then what it last reported.
   */
  *activity(): Iterable<TriggerActivity> {
    for (const { record, reported } of this.running.values()) {
      const counts = this.counts.get(record.name);
      const status = record.state === 'paused' ? 'paused' : reported === undefined || reported === 'starting' ? 'starting' : reported.startsWith('failing:') ? 'failing' : 'active';
      yield { name: record.name, function: record.function, kind: record.type, status, events: counts?.events ?? zeroCounts() };
    }
  }

  /** Stops following the feed and stops every source (deliveries in progress finish first). */
  async close(): Promise<void> {
    this.closed = true;
    for (const stop of this.unsubscribe) stop();
    await Promise.allSettled([...this.applying.values()]);
    await Promise.allSettled([...this.running.keys()].map((name) => this.stopOne(name)));
  }

  /**
   * Brings trigger `name`'s source to what the store holds now, after the changes before it. The
   * store, not the event, is read: a change told while the stored triggers were being loaded (or
   * events told out of order) cannot leave a stale definition running.
   */
  private apply(name: string): Promise<void> {
    const previous = this.applying.get(name) ?? Promise.resolve();
    const next = previous
      .then(() => this.applyNow(name))
      .catch((err: unknown) => this.deps.logger.error({ err, trigger: name }, 'a trigger change could not be applied'))
      .finally(() => {
        if (this.applying.get(name) === next) this.applying.delete(name);
      });
    this.applying.set(name, next);
    return next;
  }

  private async applyNow(name: string): Promise<void> {
    const before = this.running.get(name)?.record;
    await this.stopOne(name);
    if (this.closed) return;
    const record = await this.deps.triggers.getTrigger(name);
    if (!record) {
      this.counts.delete(name);
      if (before) await this.release(before);
      return;
    }
    const sink = new TriggerSink(this.deps.sink, { name: record.name, function: record.function }, this.countsOf(record).events);
    const running: Running = { record, sink };
    this.running.set(name, running);
    if (record.state !== 'active') return;
    const kind = this.deps.kinds.get(record.type);
    if (!kind) return this.report(running, `this platform has no trigger kind "${record.type}"`);
    if (!kind.create) return this.report(running, undefined);
    const parsed = kind.settings.safeParse(record.settings);
    if (!parsed.success) return this.report(running, `the stored settings no longer fit the ${record.type} kind: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    let secrets: Record<string, string>;
    try {
      secrets = await this.deps.secretValues(kind.secretNames(parsed.data));
    } catch (err) {
      return this.report(running, (err as Error).message);
    }
    // Until the source says it consumes (a restart of the platform, a changed definition).
    this.report(running, undefined, 'starting');
    running.source = kind.create({
      trigger: record.name,
      function: record.function,
      settings: parsed.data,
      sink,
      status: this.statusOf(running),
      state: this.stateOf(record.name),
      clock: this.deps.clock,
      logger: this.deps.logger.child({ trigger: record.name }),
      secrets,
    });
    try {
      await running.source.start();
    } catch (err) {
      this.report(running, `the source did not start: ${(err as Error).message}`);
    }
  }

  /** A removed trigger: what its source made on its broker goes too (see SourceKind.release). */
  private async release(record: TriggerRecord): Promise<void> {
    const kind = this.deps.kinds.get(record.type);
    if (!kind?.release) return;
    const parsed = kind.settings.safeParse(record.settings);
    if (!parsed.success) return;
    let problem: string | undefined;
    try {
      problem = await kind.release(parsed.data, await this.deps.secretValues(kind.secretNames(parsed.data)), record.name);
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem !== undefined) this.deps.logger.warn({ trigger: record.name, reason: problem }, 'what the removed trigger made on its broker could not be removed');
  }

  /** The trigger's counts, from zero when it is new or now goes to another function or is of another kind (other series). */
  private countsOf(record: TriggerRecord): CountsOf {
    const known = this.counts.get(record.name);
    if (known && known.function === record.function && known.kind === record.type) return known;
    const fresh = { function: record.function, kind: record.type, events: zeroCounts() };
    this.counts.set(record.name, fresh);
    return fresh;
  }

  private async stopOne(name: string): Promise<void> {
    const running = this.running.get(name);
    if (!running) return;
    this.running.delete(name);
    running.sink.close();
    await running.source?.stop().catch((err: unknown) => this.deps.logger.warn({ err, trigger: name }, 'a trigger source did not stop cleanly'));
  }

  private async functionRemoved(fn: string): Promise<void> {
    const names = [...this.running.values()].filter(({ record }) => record.function === fn).map(({ record }) => record.name);
    await Promise.all(names.map((name) => this.apply(name)));
  }

  /** A secret's value changed: the triggers whose settings name it start again with the new value. */
  private async secretChanged(secret: string): Promise<void> {
    const users = [...this.running.values()].filter(({ record }) => this.deps.kinds.get(record.type)?.secretNames(record.settings as never).includes(secret));
    await Promise.all(users.map(({ record }) => this.apply(record.name)));
  }

  private statusOf(running: Running): SourceStatus {
    return {
      active: () => this.report(running, undefined),
      failing: (reason) => this.report(running, reason || 'failing (no reason given)'),
    };
  }

  /** Writes a source's report to the store when it changes something (cron says `active` every tick). */
  private report(running: Running, failure: string | undefined, state: 'starting' | 'active' = 'active'): void {
    const key = failure === undefined ? state : `failing:${failure}`;
    if (running.reported === key || this.running.get(running.record.name) !== running) return;
    running.reported = key;
    const { name } = running.record;
    if (failure !== undefined) this.deps.logger.warn({ trigger: name, reason: failure }, 'trigger failing');
    const since = this.deps.clock.now();
    const status: TriggerStatus = failure === undefined ? { state, since } : { state: 'failing', error: failure, since };
    this.deps.triggers.setStatus(name, status).catch((err: unknown) => this.deps.logger.warn({ err, trigger: name }, 'could not record a trigger status'));
  }

  private stateOf(name: string): SourceState {
    const { triggers } = this.deps;
    return {
      get: async <T>(key: string) => (await triggers.getState(name, key)) as T | undefined,
      set: async (key, value) => void (await triggers.setState(name, key, value)),
    };
  }
}
