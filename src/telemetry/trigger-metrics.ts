import { Counter, Gauge, type Registry } from 'prom-client';

/** A trigger's statuses, all shown (1 for the current one, 0 for the others). */
const TRIGGER_STATUSES = ['starting', 'active', 'paused', 'failing'] as const;

/** What the trigger metrics read of one trigger at scrape time. */
export interface TriggerActivity {
  name: string;
  function: string;
  /** The trigger's type (`cron`, `nats`, ...). */
  kind: string;
  status: (typeof TRIGGER_STATUSES)[number];
  /** Events by outcome since the platform started (or since the trigger changed function or type). */
  events: { delivered: number; duplicate: number; refused: number };
}

/** Where the trigger metrics read from; called only on a scrape. */
export interface TriggerMetricsSource {
  /** Every trigger the platform runs now (removed ones are gone, and so are their series). */
  triggers(): Iterable<TriggerActivity>;
}

const OUTCOMES = ['delivered', 'duplicate', 'refused'] as const;

/**
 * Registers `nimbus_trigger_events_total` and `nimbus_trigger_status`. The trigger sinks count
 * into plain numbers; these read them (and each trigger's status) only when `/metrics` is scraped,
 * so an event costs one addition. A removed trigger is no longer listed: its series go with it.
 */
export function registerTriggerMetrics(registry: Registry, source: TriggerMetricsSource): void {
  const registers = [registry];
  new Counter({
    name: 'nimbus_trigger_events_total',
    help: 'Events taken by a trigger, by outcome: delivered (stored as an async invocation of the function), duplicate (an event id the trigger delivered already: nothing stored), refused (not taken, so the source did not acknowledge it: the function was removed, the trigger was stopping, or the store failed).',
    labelNames: ['trigger', 'function', 'kind', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const t of source.triggers()) {
        for (const outcome of OUTCOMES) this.inc({ trigger: t.name, function: t.function, kind: t.kind, outcome }, t.events[outcome]);
      }
    },
  });
  new Gauge({
    name: 'nimbus_trigger_status',
    help: 'The status of a trigger: 1 for its current status (active, paused, failing: its source cannot consume now), 0 for the others.',
    labelNames: ['trigger', 'function', 'kind', 'status'],
    registers,
    collect() {
      this.reset();
      for (const t of source.triggers()) {
        for (const status of TRIGGER_STATUSES) this.set({ trigger: t.name, function: t.function, kind: t.kind, status }, t.status === status ? 1 : 0);
      }
    },
  });
}
