/**
 * A running amqp trigger. amqplib's connection recovery reconnects with back-off and runs
 * {@link AmqpSource.setup} on each connection (declare, bind, consume), so a broker that is down or
 * goes away makes the trigger `failing` until consuming again, and `start` never waits for it.
 *
 * Messages are handed to the sink in batches, in the order they arrived, after `whenRoom`; a batch
 * is acknowledged (`ack`, all up to its last tag) only once `deliver` resolved. A refused batch is
 * handed back after a growing delay (`nack` with requeue, all up to the last message received, so
 * the broker redelivers them in their order) instead of spinning. Prefetch bounds what the broker
 * sends before acknowledgements, which is what stops it while the sink has no room.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage, type RecoveringChannelModel } from 'amqplib';
import type { SourceContext, TriggerSource } from '../types.js';
import { AMQP_DEFAULT_PORTS, AMQP_SCHEMES, type AmqpSettings, DEFAULT_ROUTING_KEY, amqpTriggerQueue } from './amqp-settings.js';
import { type AmqpOrigin, amqpEvent } from './amqp-event.js';
import { type BrokerAddress, brokerAddress } from './broker-settings.js';
import { backoffDelay, reasonOf, SOURCE_TIMINGS, type SourceTimings, sleep } from './source-support.js';

/** Tunables of an amqp source (the kind uses the defaults; tests shorten the waits). */
export interface AmqpSourceOptions extends SourceTimings {
  /** Most unacknowledged messages the broker sends this source (AMQP prefetch); also the largest batch. @default 32 */
  prefetch?: number;
}

/** One connection's channel and what it received and has not yet handed over. */
interface Session {
  channel: Channel;
  model: ChannelModel;
  consumerTag?: string;
  closed: boolean;
  received: ConsumeMessage[];
  /** Whether a loop is handing `received` to the sink. */
  pumping: boolean;
}

/** Heartbeats find a broker that vanished without closing the socket (seconds). */
const HEARTBEAT_SECONDS = 15;

/** Longest `stop` waits for the broker to answer the connection's close. */
const CLOSE_WAIT_MS = 5000;

export class AmqpSource implements TriggerSource {
  private readonly options: Required<AmqpSourceOptions>;
  private connection: RecoveringChannelModel | undefined;
  private session: Session | undefined;
  /** Pumps still running, of this session and of closed ones still finishing a delivery. */
  private readonly pumps = new Set<Promise<void>>();
  private stopping = false;
  /** Resolves when `stop` is called: waits for room end there (stop need not wait out a full backlog). */
  private readonly stopped: Promise<void>;
  private signalStop!: () => void;
  private refusalsInARow = 0;
  /** Aborted by `stop`: ends the wait before a refused batch is handed back. */
  private readonly stopSignal = new AbortController();
  /** Why the source closed its own connection, reported instead of amqplib's "Connection closed". */
  private restartReason: string | undefined;
  private address = '';
  private origin: AmqpOrigin = { source: '', queue: '' };

  constructor(
    private readonly context: SourceContext<AmqpSettings>,
    options: AmqpSourceOptions = {},
  ) {
    this.options = { prefetch: 32, ...SOURCE_TIMINGS, ...options };
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
  }

  async start(): Promise<void> {
    const { settings, secrets, status, trigger } = this.context;
    let address: BrokerAddress;
    try {
      address = brokerAddress(settings, secrets, AMQP_SCHEMES, AMQP_DEFAULT_PORTS);
    } catch (error) {
      // Nothing to retry: the platform restarts the source when the trigger or secret changes.
      status.failing(reasonOf(error));
      return;
    }
    const url = address.url;
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
    const vhost = decodedVhost(url);
    this.address = `${address.display} (vhost ${vhost})`;
    const queue = settings.queue ?? amqpTriggerQueue(trigger);
    this.origin = {
      source: `${address.display}/${encodeURIComponent(vhost)}/${encodeURIComponent(settings.queue ?? settings.exchange ?? '')}`,
      queue,
    };
    const connection = await amqp.connect(url.href, {
      timeout: 10_000,
      clientProperties: { connection_name: `nimbus trigger ${trigger}` },
      recovery: {
        waitForConnect: false,
        initialDelay: this.options.reconnectDelayMs,
        maxDelay: this.options.reconnectMaxDelayMs,
        setup: (model: ChannelModel) => this.setup(model, queue),
      },
    });
    this.connection = connection;
    if (this.stopping) {
      await connection.close().catch(() => undefined);
      return;
    }
    connection.on('connect', () => {
      this.context.logger.info({ trigger, broker: this.address, queue }, 'amqp trigger consuming');
      status.active();
    });
    connection.on('connect-failed', (error: Error) => this.failing(`cannot consume from ${this.address}: ${error.message}`));
    connection.on('disconnect', (error: Error) => {
      const reason = this.restartReason ?? `lost the connection to ${this.address}: ${error.message}`;
      this.restartReason = undefined;
      this.failing(reason);
    });
    connection.on('error', (error: Error) => this.context.logger.warn({ trigger, err: error.message }, 'amqp connection error'));
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.signalStop();
    this.stopSignal.abort();
    // A broker that stopped answering must not hold the platform's stop past the grace.
    let cancelGrace = () => {};
    const grace = new Promise<void>((resolve) => (cancelGrace = this.context.clock.after(this.options.stopGraceMs, resolve)));
    const session = this.session;
    const drained = (async () => {
      if (session && !session.closed && session.consumerTag !== undefined) {
        await session.channel.cancel(session.consumerTag).catch(() => undefined);
      }
      await Promise.all(this.pumps);
    })();
    await Promise.race([drained, grace]);
    cancelGrace();
    // Closing hands every unacknowledged message back to the broker. A broker that does not answer
    // the close is left to the heartbeat.
    let cancelClose = () => {};
    const closeBound = new Promise<void>((resolve) => (cancelClose = this.context.clock.after(CLOSE_WAIT_MS, resolve)));
    await Promise.race([this.connection?.close().catch(() => undefined), closeBound]);
    cancelClose();
  }

  /** Runs on every (re)connection: declare, bind, consume. A failure makes amqplib retry. */
  private async setup(model: ChannelModel, queue: string): Promise<void> {
    const channel = await model.createChannel();
    const session: Session = { channel, model, closed: false, received: [], pumping: false };
    let channelError: Error | undefined;
    channel.on('error', (error: Error) => {
      channelError = error;
      this.context.logger.warn({ trigger: this.context.trigger, err: error.message }, 'amqp channel error');
    });
    channel.on('close', () => {
      session.closed = true;
      // Without an error of its own the channel closed with its connection, whose recovery reports it.
      if (this.stopping || this.session !== session || !channelError) return;
      // The broker closed the channel and kept the connection: start over on a new connection.
      this.restart(model, `the broker closed the channel to ${this.address}: ${channelError.message}`);
    });
    await channel.prefetch(this.options.prefetch);
    await this.declare(model, channel, queue);
    this.session = session;
    const { consumerTag } = await channel.consume(queue, (message) => this.receive(session, message), { noAck: false });
    session.consumerTag = consumerTag;
  }

  /**
   * A named queue is used as it is when it exists (its arguments are the owner's) and declared
   * durable when it does not. For an exchange, the exchange must exist (a typo should say so, not
   * make a new exchange nobody publishes to); Nimbus's own queue is declared durable and bound, and
   * a binding an earlier version of the trigger made is removed.
   */
  private async declare(model: ChannelModel, channel: Channel, queue: string): Promise<void> {
    const { settings, state } = this.context;
    if (settings.exchange === undefined) {
      // A failed passive check closes its channel: probe on a channel of its own.
      const probe = await model.createChannel();
      probe.on('error', () => undefined);
      try {
        await probe.checkQueue(queue);
        await probe.close();
      } catch (error) {
        if ((error as { code?: unknown }).code !== 404) throw error;
        await channel.assertQueue(queue, { durable: true });
      }
      return;
    }
    const binding = { exchange: settings.exchange, routingKey: settings.routingKey ?? DEFAULT_ROUTING_KEY };
    await channel.checkExchange(binding.exchange);
    await channel.assertQueue(queue, { durable: true });
    const previous = await state.get<typeof binding>('amqp.binding');
    if (previous && (previous.exchange !== binding.exchange || previous.routingKey !== binding.routingKey)) {
      // On a channel of its own: an old exchange that is gone (404) closes it, and has no binding left.
      const probe = await model.createChannel();
      probe.on('error', () => undefined);
      try {
        await probe.unbindQueue(queue, previous.exchange, previous.routingKey);
        await probe.close();
      } catch (error) {
        if ((error as { code?: unknown }).code !== 404) throw error;
      }
    }
    await channel.bindQueue(queue, binding.exchange, binding.routingKey);
    await state.set('amqp.binding', binding);
  }

  private receive(session: Session, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (its queue was deleted): reconnect and declare again.
      if (!this.stopping && this.session === session) {
        this.restart(session.model, `${this.address} cancelled the consumer of ${this.origin.queue} (was the queue deleted?); consuming again`);
      }
      return;
    }
    session.received.push(message);
    if (session.pumping) return;
    // pump() clears the flag itself, in the same turn as its last look at `received`.
    session.pumping = true;
    const pumping = this.pump(session).finally(() => this.pumps.delete(pumping));
    this.pumps.add(pumping);
  }

  /** Hands what was received to the sink, batch after batch, until nothing is left. */
  private async pump(session: Session): Promise<void> {
    try {
      await this.pumpBatches(session);
    } finally {
      session.pumping = false;
    }
  }

  private async pumpBatches(session: Session): Promise<void> {
    const { sink, logger, trigger } = this.context;
    while (session.received.length > 0 && !this.stopping && !session.closed) {
      await Promise.race([sink.whenRoom(), this.stopped]);
      if (this.stopping || session.closed) return;
      const batch = session.received.splice(0, this.options.prefetch);
      const last = batch.at(-1) as ConsumeMessage;
      try {
        await sink.deliver(batch.map((message) => amqpEvent(message, this.origin)));
        this.refusalsInARow = 0;
        this.settle(session, () => session.channel.ack(last, true));
      } catch (error) {
        this.refusalsInARow++;
        const delay = backoffDelay(this.refusalsInARow, this.options.retryDelayMs, this.options.retryMaxDelayMs);
        logger.warn({ trigger, err: (error as Error).message, retryInMs: delay }, 'amqp trigger: the sink refused a batch; handing it back to the broker');
        await sleep(this.context.clock, delay, this.stopSignal.signal);
        // Everything received after the batch goes back too, so the broker keeps the order.
        const upTo = session.received.at(-1) ?? last;
        session.received.length = 0;
        this.settle(session, () => session.channel.nack(upTo, true, true));
      }
    }
  }

  /** Acks or nacks unless the channel is gone (its unacknowledged messages are redelivered then). */
  private settle(session: Session, operation: () => void): void {
    if (session.closed) return;
    try {
      operation();
    } catch (error) {
      this.context.logger.warn({ trigger: this.context.trigger, err: (error as Error).message }, 'amqp trigger: could not settle messages');
    }
  }

  /** Closes the connection so amqplib's recovery opens a new one; `reason` is the failing report. */
  private restart(model: ChannelModel, reason: string): void {
    this.restartReason = reason;
    model.close().catch(() => undefined);
  }

  private failing(reason: string): void {
    if (this.stopping) return;
    this.context.logger.warn({ trigger: this.context.trigger, reason }, 'amqp trigger failing');
    this.context.status.failing(reason);
  }
}

/** The URL's vhost (`/` when the path is empty); a malformed escape is kept as it is written. */
function decodedVhost(url: URL): string {
  const path = url.pathname.slice(1);
  try {
    return decodeURIComponent(path) || '/';
  } catch {
    return path;
  }
}
