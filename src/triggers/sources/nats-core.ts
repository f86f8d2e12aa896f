/**
 * A trigger on a core NATS subject. Core NATS is at-most-once: the server hands each message to
 * the subscribers connected at that moment and forgets it, so a message published while the
 * source is disconnected, or one the sink refuses, is gone (use JetStream, `stream`, for
 * at-least-once). While the function's backlog is full, messages wait in memory, up to
 * {@link MAX_WAITING}; past that they are dropped and counted in the log.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { SourceContext, TriggerSource } from '../types.js';
import { sourceUri, type BrokerAddress } from './broker-settings.js';
import { EventPump } from './event-pump.js';
import { connectUntilStopped, watchConnection } from './nats-connection.js';
import { coreNatsEvent } from './nats-event.js';
import type { NatsSettings } from './nats-settings.js';
import { Backoff, ChangeOnlyStatus, reasonOf, sleep } from './source-support.js';

/** Messages held while the sink has no room, before newer ones are dropped. */
export const MAX_WAITING = 10_000;

export class NatsCoreSource implements TriggerSource {
  private readonly stopping = new AbortController();
  private readonly status: ChangeOnlyStatus;
  private readonly pump: EventPump<Msg>;
  private connection: NatsConnection | undefined;
  private running: Promise<void> | undefined;
  private dropped = 0;

  constructor(private readonly context: SourceContext<NatsSettings>) {
    this.status = new ChangeOnlyStatus(context.status);
    this.pump = new EventPump<Msg>(context.sink, {
      delivered: () => undefined,
      refused: (messages, error) =>
        context.logger.warn({ trigger: context.trigger, count: messages.length, err: reasonOf(error) }, 'core NATS messages refused by the platform are dropped (at-most-once)'),
    }, this.stopping.signal);
  }

  start(): Promise<void> {
    this.running ??= this.run();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.connection?.close().catch(() => undefined);
    await this.running;
    await this.pump.idle();
  }

  /** Connects, subscribes and stays subscribed until stopped, connecting again when the client gives up. */
  private async run(): Promise<void> {
    const backoff = new Backoff();
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const opened = await connectUntilStopped(this.context, this.status, backoff, signal);
      if (!opened) break;
      const { connection, address } = opened;
      this.connection = connection;
      if (signal.aborted) {
        await connection.close().catch(() => undefined); // stop() ran before the connection was known
        break;
      }
      backoff.reset();
      try {
        this.subscribe(connection, address);
        await connection.flush(); // the server has the subscription: consuming from here on
        this.status.active();
      } catch (error) {
        this.status.failing(`cannot subscribe to ${this.context.settings.subject} on ${address.display}: ${reasonOf(error)}`);
      }
      await watchConnection(connection, this.status, address.display);
      const closedBy = await connection.closed();
      if (!signal.aborted) {
        this.status.failing(`the connection to ${address.display} closed${closedBy ? `: ${reasonOf(closedBy)}` : ''}`);
        await sleep(this.context.clock, backoff.next(), signal);
      }
    }
  }

  private subscribe(connection: NatsConnection, address: BrokerAddress): Subscription {
    const source = sourceUri(address, this.context.settings.subject);
    return connection.subscribe(this.context.settings.subject, {
      callback: (error, msg) => {
        if (error) {
          this.status.failing(`the subscription to ${this.context.settings.subject} failed: ${reasonOf(error)}`);
          return;
        }
        if (this.stopping.signal.aborted) return;
        if (this.pump.waiting >= MAX_WAITING) {
          if (this.dropped++ % 1000 === 0) {
            this.context.logger.warn({ trigger: this.context.trigger, dropped: this.dropped }, 'the function has no room: core NATS messages are dropped (at-most-once)');
          }
          return;
        }
        this.pump.push(msg, coreNatsEvent(msg, source));
      },
    });
  }
}
