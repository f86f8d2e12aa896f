/**
 * A trigger on a JetStream stream: a durable pull consumer with explicit acks. A message is acked
 * only after the sink stored it, and nak'ed with a growing delay when the sink refused it, so
 * JetStream redelivers it (at-least-once); its event id (stream and sequence) stays the same.
 * The source pulls a bounded batch at a time, and only when the sink has room, so a full
 * function backlog leaves messages in the stream. The stream must exist: the source never
 * creates or changes a stream; the consumer it makes (or takes over) is named by `consumer`.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamManager, type JsMsg, type ConsumerMessages, type Consumer } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { SourceContext, TriggerSource } from '../types.js';
import { sourceUri, type BrokerAddress } from './broker-settings.js';
import { EventPump } from './event-pump.js';
import { connectUntilStopped, watchConnection } from './nats-connection.js';
import { jetStreamEvent } from './nats-event.js';
import { consumerNameOf, type NatsSettings } from './nats-settings.js';
import { Backoff, backoffDelay, ChangeOnlyStatus, reasonOf, sleep, unlessStopped } from './source-support.js';

/** Messages pulled at a time: at most this many are held by the source. */
export const PREFETCH = 64;
/** How long one pull waits on the server for messages before it is sent again. */
const PULL_EXPIRES_MS = 5_000;
/** How often messages held while the sink has no room are reported as still being worked on (the ack wait is 30 s). */
const WORKING_EVERY_MS = 10_000;

export class JetStreamSource implements TriggerSource {
  private readonly stopping = new AbortController();
  private readonly status: ChangeOnlyStatus;
  private readonly pump: EventPump<JsMsg>;
  private pull: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly context: SourceContext<NatsSettings & { stream: string }>) {
    this.status = new ChangeOnlyStatus(context.status);
    this.pump = new EventPump<JsMsg>(context.sink, {
      delivered: (messages) => messages.forEach((m) => m.ack()),
      refused: (messages, error) => {
        context.logger.warn({ trigger: context.trigger, count: messages.length, err: reasonOf(error) }, 'JetStream messages refused by the platform are redelivered');
        // 1 s, 2 s, 4 s … 60 s: a refusal means the platform cannot store now (closing, function gone).
        messages.forEach((m) => m.nak(backoffDelay(m.info.deliveryCount, 1_000, 60_000)));
      },
    }, this.stopping.signal);
  }

  start(): Promise<void> {
    this.running ??= this.run();
    return Promise.resolve();
  }

  /** Stops pulling, lets the delivery in progress finish (and be acked), gives back what was held, and closes. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.pull?.stop();
    await this.running;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff();
    const signal = this.stopping.signal;
    const stopKeepAlive = this.context.clock.every(WORKING_EVERY_MS, () => this.pump.pending().forEach((m) => m.working()));
    try {
      while (!signal.aborted) {
        const opened = await connectUntilStopped(this.context, this.status, backoff, signal);
        if (!opened) break;
        const { connection, address } = opened;
        const watching = watchConnection(connection, this.status, address.display);
        await this.consume(connection, address, backoff);
        if (signal.aborted) {
          await this.close(connection);
        } else {
          this.status.failing(`the connection to ${address.display} closed`);
          await sleep(this.context.clock, backoff.next(), signal);
        }
        await watching.catch(() => undefined);
      }
    } finally {
      stopKeepAlive();
    }
  }

  /** After a stop: waits for the delivery in progress (acked), gives back what was held (nak), then closes. */
  private async close(connection: NatsConnection): Promise<void> {
    await this.pump.idle();
    for (const message of this.pump.takeQueued()) message.nak();
    if (connection.isClosed()) return;
    await connection.flush().catch(() => undefined); // the acks and naks reach the server
    await connection.close().catch(() => undefined);
  }

  /** Pulls until stopped or until the connection closes for good; a failed pull is tried again after a back-off. */
  private async consume(connection: NatsConnection, address: BrokerAddress, backoff: Backoff): Promise<void> {
    const { stream, subject } = this.context.settings;
    const durable = consumerNameOf(this.context.settings, this.context.trigger);
    const source = sourceUri(address, stream);
    const signal = this.stopping.signal;
    let consumer: Consumer | undefined;
    while (!signal.aborted && !connection.isClosed()) {
      try {
        if (!consumer) {
          const manager = await jetstreamManager(connection);
          await ensureConsumer(manager, stream, durable, subject, address.display);
          consumer = await manager.jetstream().consumers.get(stream, durable);
          backoff.reset();
          this.status.active();
        }
        await unlessStopped(this.context.sink.whenRoom(), signal);
        if (signal.aborted) return;
        this.pull = await consumer.fetch({ max_messages: PREFETCH, expires: PULL_EXPIRES_MS });
        if (signal.aborted) this.pull.stop();
        for await (const message of this.pull) {
          if (signal.aborted) message.nak();
          else this.pump.push(message, jetStreamEvent(message, source));
        }
        await this.pump.idle();
        if (!connection.isClosed() && !signal.aborted) this.status.active();
      } catch (error) {
        if (signal.aborted || connection.isClosed()) return;
        consumer = undefined;
        this.status.failing(`consuming stream ${stream} on ${address.display}: ${reasonOf(error)}`);
        await sleep(this.context.clock, backoff.next(), signal);
      }
    }
  }
}

/**
 * Makes the durable pull consumer, or checks the one of that name: it must be a pull consumer
 * with explicit acks (neither can be changed on an existing consumer); a different subject filter
 * is updated (if the server refuses, the reason says so).
 */
async function ensureConsumer(manager: JetStreamManager, stream: string, durable: string, subject: string, display: string): Promise<void> {
  let existing;
  try {
    existing = await manager.consumers.info(stream, durable);
  } catch (error) {
    if (isApiError(error, JetStreamApiCodes.StreamNotFound)) {
      throw new Error(`the stream ${stream} does not exist on ${display}: create it first (e.g. nats stream add ${stream} --subjects '${subject}')`);
    }
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
  }
  if (!existing) {
    // DeliverPolicy.All (the NATS default): a new trigger also gets what the stream already
    // holds, e.g. the work waiting in a work-queue stream. Make the consumer yourself to start elsewhere.
    await manager.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      description: `Nimbus trigger consumer`,
    });
    return;
  }
  const config = existing.config;
  const why = `remove it (nats consumer rm ${stream} ${durable}) or name another with --consumer`;
  if (config.deliver_subject) throw new Error(`the consumer ${durable} of stream ${stream} is a push consumer; Nimbus needs a pull consumer: ${why}`);
  if (config.ack_policy !== AckPolicy.Explicit) throw new Error(`the consumer ${durable} of stream ${stream} has ack policy ${config.ack_policy}; Nimbus needs explicit acks: ${why}`);
  const filter = config.filter_subject ?? '';
  if (filter !== subject) {
    try {
      await manager.consumers.update(stream, durable, { filter_subject: subject });
    } catch (error) {
      throw new Error(`the consumer ${durable} of stream ${stream} filters '${filter}', the trigger asks for '${subject}', and the server did not change it (${reasonOf(error)}): ${why}`);
    }
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}
