import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { ZodType } from 'zod';

/**
 * The trigger-source contract. A source (cron, NATS, MQTT, AMQP, Redis Streams, files) turns what
 * it receives into {@link TriggerEvent}s and hands them to its {@link EventSink}, which stores each
 * as one async invocation of the trigger's function (a CloudEvents 1.0 request in binary mode).
 * Nothing here knows a broker: each source lives in its own file under src/triggers/sources/, and
 * every source passes test/triggers/source-contract.ts.
 *
 * At-least-once: a source acknowledges a message to its broker only after `sink.deliver` has
 * resolved (the invocation is durably queued). Redelivered messages keep their event id, and the
 * sink drops an event whose id it already took for the same trigger (within the idempotency
 * window), so a redelivery after a crash does not run the function twice.
 */

/** One event, as a source hands it over: the CloudEvents 1.0 context attributes and the data. */
export interface TriggerEvent {
  /**
   * `ce-id`: unique per event within its source, and the same for every delivery of one message
   * (JetStream stream sequence, Redis entry id, AMQP message id or a hash, cron trigger + scheduled
   * time, file path + size + mtime + kind), so a redelivery is recognised.
   */
  id: string;
  /** `ce-type`, e.g. `dev.nimbus.nats.message`. */
  type: string;
  /** `ce-source`, a URI-reference naming where it came from, e.g. `nats://127.0.0.1:4222/orders`. */
  source: string;
  /** `ce-subject`: the subject, topic, queue, stream key or file path. */
  subject?: string;
  /** `ce-time`: when it happened (epoch milliseconds); the sink uses the clock's now when absent. */
  time?: number;
  /** `content-type` of the data, when the source knows it. */
  contentType?: string;
  /** The payload, byte for byte. */
  data: Buffer;
  /**
   * Extension attributes, sent as `ce-<name>` headers: names are lowercase a-z and 0-9 only, at
   * most 20 characters (CloudEvents 1.0); values strings. Broker metadata travels here
   * (e.g. `natsreply`, `mqttretain`, `amqpredelivered`, `redisstream`).
   */
  extensions?: Record<string, string>;
}

/** Where a source delivers its events. */
export interface EventSink {
  /**
   * Stores the events, in order, as async invocations of the trigger's function. Resolves once all
   * of them would survive the platform being killed: only then may the source acknowledge them.
   * An event whose id this trigger already delivered is skipped (and counts as delivered).
   * @throws NimbusError when they could not be stored (the function was removed, the store is
   *   closing): the source must not acknowledge, and its broker redelivers.
   */
  deliver(events: TriggerEvent[]): Promise<void>;
  /**
   * Resolves at once while the function's async backlog is below the platform's bound; otherwise
   * when it has drained below it again. Sources await it before pulling more (pause consumption,
   * bounded prefetch), so a slow function's backlog does not grow without end.
   */
  whenRoom(): Promise<void>;
}

/** A trigger's state as its source reports it. */
export interface SourceStatus {
  /** Tells that the source is connected and consuming. */
  active(): void;
  /** Tells that the source cannot consume now and why (it keeps retrying with back-off). */
  failing(reason: string): void;
}

/**
 * Small durable memory of a source (survives restarts), kept per trigger by the platform: the
 * last cron tick fired, a file index, a consumer's position. Values are JSON.
 */
export interface SourceState {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

/** What a source is started with. */
export interface SourceContext<Settings> {
  /** The trigger's name (a DNS label, unique on the platform). */
  trigger: string;
  /** The target function. */
  function: string;
  /** The source's settings, as validated by its schema. */
  settings: Settings;
  sink: EventSink;
  status: SourceStatus;
  state: SourceState;
  clock: Clock;
  logger: Logger;
  /** Secret values the settings refer to (credentials), resolved by the platform; never logged. */
  secrets: Record<string, string>;
}

/**
 * A running source. `start` must not throw because a broker is unreachable: it reports
 * `failing`, reconnects with back-off by itself, and reports `active` once consuming. `stop`
 * stops consuming, waits for deliveries in progress, and closes its connections.
 */
export interface TriggerSource {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One kind of source (`cron`, `nats`, `mqtt`, `amqp`, `redis`, `file`, `event`): how its settings
 * are validated and how a running source is made. Each kind exports one of these from its file in
 * src/triggers/sources/, and src/triggers/sources/index.ts lists them all.
 */
export interface SourceKind<Settings> {
  /** The trigger type, as in the API's `type` field. */
  type: string;
  /** Validates the API's `settings` and fills in defaults (a zod schema). */
  settings: ZodType<Settings>;
  /** Names of the Nimbus secrets the settings refer to (e.g. `urlSecret`), resolved into `SourceContext.secrets`. */
  secretNames(settings: Settings): string[];
  /**
   * Answers why a trigger with these settings could not consume now, or undefined when it can: an
   * unreachable broker, refused credentials, a missing JetStream stream or AMQP exchange, a Redis
   * key that is not a stream. The API calls it before storing a new or changed trigger, and
   * refuses the trigger with the answer (TRIGGER_SOURCE_UNREACHABLE); a stored trigger is never
   * checked (a running source reports `failing` and retries instead). Connects once, bounded to a
   * few seconds, leaves nothing behind on the broker, and never throws. The reason never quotes
   * a secret. Absent for kinds with nothing to reach (`cron`, `file`, `event`).
   */
  check?(settings: Settings, secrets: Record<string, string>): Promise<string | undefined>;
  /**
   * The trigger was removed (alone or with its function): removes from the broker what Nimbus
   * made for it there and nobody else reads (a JetStream consumer, a queue bound to an exchange, a
   * Redis consumer group, an MQTT session), so the broker stops keeping messages for it. What the
   * user named in the settings is theirs and stays. Called after the source stopped; connects
   * once, bounded to a few seconds; answers why it could not (with what to do), or undefined.
   * Never throws. Absent for kinds that leave nothing on a broker.
   */
  release?(settings: Settings, secrets: Record<string, string>, trigger: string): Promise<string | undefined>;
  /** Makes a source; the platform calls `start` on it. Undefined for kinds fed by the platform itself (`event`). */
  create?(context: SourceContext<Settings>): TriggerSource;
}
