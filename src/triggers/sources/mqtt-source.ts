/**
 * A trigger on an MQTT topic filter (MQTT 5). Messages are handled one at a time, in order, through
 * mqtt.js's `handleMessage` hook: the client sends a QoS 1 PUBACK only when the hook's callback is
 * called, and it is called once the sink stored the event. A refused delivery is tried again in
 * place (MQTT brokers resend unacknowledged messages only on a new connection) with a growing
 * delay. While the function's backlog is full the hook waits for room, and since the client reads
 * nothing else meanwhile, the broker keeps further messages (at most `RECEIVE_MAXIMUM` in flight
 * to us; the rest queued in the session). A wait longer than {@link PAUSE_AFTER_MS} would starve
 * the keepalive (the client reads no PINGRESP either), so the source then pauses: it disconnects,
 * unacknowledged, and connects again once there is room; the broker resends. QoS 1 uses a persistent session under a client id
 * derived from the trigger's name, so messages published while the platform is down are
 * delivered when it comes back.
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Clock } from '../../core/clock.js';
import type { SourceContext, TriggerSource } from '../types.js';
import { brokerAddress, sourceUri, type BrokerAddress } from './broker-settings.js';
import { MqttEventIds, mqttEvent } from './mqtt-event.js';
import { MQTT_DISPLAY_PORT, MQTT_SCHEMES, mqttClientIdOf, type MqttSettings, mqttServerOf } from './mqtt-settings.js';
import { Backoff, ChangeOnlyStatus, reasonOf, sleep, unlessStopped } from './source-support.js';

/** Unacknowledged QoS 1 messages the broker may send us at once (MQTT 5 Receive Maximum). */
export const RECEIVE_MAXIMUM = 32;
/** How long the broker keeps a QoS 1 trigger's session (and queues its messages) while the platform is away: 7 days. */
export const SESSION_EXPIRY_SECONDS = 7 * 24 * 3600;

/**
 * How long a message may wait for room before the source pauses (disconnects until there is
 * room): well within the keepalive's 45 s, after which mqtt.js would drop the connection itself.
 */
export const PAUSE_AFTER_MS = 10_000;

export class MqttSource implements TriggerSource {
  private readonly stopping = new AbortController();
  private readonly status: ChangeOnlyStatus;
  private readonly ids = new MqttEventIds();
  private readonly reconnects = new Backoff();
  private client: MqttClient | undefined;
  /** Messages being handled (at most one per connection: the client hands them over one by one). */
  private readonly handling = new Set<Promise<void>>();
  private lastError: string | undefined;
  private connectedOnce = false;
  /** Set while the source is disconnected on purpose, waiting for room. */
  private pausing: Promise<void> | undefined;

  constructor(private readonly context: SourceContext<MqttSettings>) {
    this.status = new ChangeOnlyStatus(context.status);
  }

  start(): Promise<void> {
    if (this.client || this.stopping.signal.aborted) return Promise.resolve();
    let address: BrokerAddress;
    try {
      address = brokerAddress(this.context.settings, this.context.secrets, MQTT_SCHEMES, MQTT_DISPLAY_PORT);
    } catch (error) {
      this.status.failing(`cannot connect to MQTT: ${reasonOf(error)}`);
      return Promise.resolve();
    }
    this.client = this.connect(address);
    return Promise.resolve();
  }

  /** Stops taking messages, waits for the delivery in progress (acknowledged), and disconnects (the session stays). */
  async stop(): Promise<void> {
    this.stopping.abort();
    while (this.handling.size > 0) await Promise.allSettled([...this.handling]);
    await this.pausing;
    const client = this.client;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  private connect(address: BrokerAddress): MqttClient {
    const { settings } = this.context;
    const persistent = settings.qos === 1;
    const { url } = address;
    const client = mqtt.connect({
      ...mqttServerOf(url),
      protocolVersion: 5,
      clientId: mqttClientIdOf(this.context.trigger),
      clean: !persistent,
      properties: {
        receiveMaximum: RECEIVE_MAXIMUM,
        ...(persistent ? { sessionExpiryInterval: SESSION_EXPIRY_SECONDS } : {}),
      },
      keepalive: 30,
      connectTimeout: 5_000,
      reconnectPeriod: this.reconnects.next(),
      // The source subscribes on every connect itself (a resumed session already has it).
      resubscribe: false,
    });
    const source = sourceUri(address, settings.topic);
    client.handleMessage = (packet, callback) => {
      const handled = this.handle(packet, source);
      this.handling.add(handled);
      handled.then(
        () => (this.handling.delete(handled), callback()),
        (error: unknown) => (this.handling.delete(handled), callback(error instanceof Error ? error : new Error(String(error)))),
      );
    };
    client.on('connect', () => {
      this.connectedOnce = true;
      this.reconnects.reset();
      this.lastError = undefined;
      client.subscribe(settings.topic, { qos: settings.qos }, (error, granted) => {
        const refused = granted?.find((g) => g.qos > 2);
        if (error || refused) {
          this.status.failing(`the broker at ${address.display} refused the subscription to ${settings.topic}: ${error ? reasonOf(error) : `reason code ${refused?.qos}`}`);
        } else {
          this.status.active();
        }
      });
    });
    client.on('error', (error) => {
      this.lastError = reasonOf(error);
    });
    client.on('close', () => {
      if (this.stopping.signal.aborted || this.pausing) return;
      const what = this.connectedOnce ? 'disconnected from' : 'cannot connect to';
      this.status.failing(`${what} ${address.display}${this.lastError ? ` (${this.lastError})` : ''}; reconnecting`);
      // mqtt.js waits reconnectPeriod before each attempt: grow it while the broker stays away.
      client.options.reconnectPeriod = this.reconnects.next();
    });
    return client;
  }

  /** Disconnects (the session and the unacknowledged message stay on the broker) until `room` resolves, then connects again. */
  private pause(room: Promise<void>): void {
    const client = this.client;
    if (this.pausing || !client) return;
    this.context.logger.info({ trigger: this.context.trigger }, 'the function has no room: the MQTT trigger disconnects until it has');
    this.pausing = (async () => {
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      await unlessStopped(room, this.stopping.signal);
      this.pausing = undefined;
      if (!this.stopping.signal.aborted) client.reconnect();
    })();
  }

  /**
   * Resolves once the message's event is stored (the client then acknowledges it); rejects, so
   * it is not acknowledged, when the source stops first. QoS 0 messages the sink refuses are
   * dropped (at-most-once).
   */
  private async handle(packet: IPublishPacket, source: string): Promise<void> {
    const signal = this.stopping.signal;
    const event = mqttEvent(packet, this.ids.idOf(packet), source);
    const retries = new Backoff(1_000, 60_000);
    for (;;) {
      if (signal.aborted) throw new Error('the trigger stopped before the message was stored');
      // Messages the client had already read when the source paused: the broker resends them, in order.
      if (this.pausing) throw new Error('the trigger is paused: the broker resends the message');
      const room = this.context.sink.whenRoom();
      const deadline = timeout(this.context.clock, PAUSE_AFTER_MS);
      const roomInTime = await unlessStopped(Promise.race([room.then(() => true), deadline.expired]), signal);
      deadline.cancel();
      if (signal.aborted) throw new Error('the trigger stopped before the message was stored');
      if (!roomInTime) {
        this.pause(room);
        throw new Error('the function has no room: paused, the broker resends the message');
      }
      try {
        await this.context.sink.deliver([event]);
        return;
      } catch (error) {
        if (packet.qos === 0) {
          this.context.logger.warn({ trigger: this.context.trigger, err: reasonOf(error) }, 'an MQTT QoS 0 message refused by the platform is dropped (at-most-once)');
          return;
        }
        this.context.logger.warn({ trigger: this.context.trigger, err: reasonOf(error) }, 'an MQTT message refused by the platform is tried again');
        await sleep(this.context.clock, retries.next(), signal);
      }
    }
  }
}

/** `expired` resolves false after `ms` on `clock`, unless `cancel` is called first. */
function timeout(clock: Clock, ms: number): { expired: Promise<false>; cancel: () => void } {
  let cancel = () => {};
  const expired = new Promise<false>((resolve) => (cancel = clock.after(ms, () => resolve(false))));
  return { expired, cancel };
}
