/**
 * One-off calls of an `amqp` trigger against its broker, outside the running source. The check,
 * for the API to refuse a trigger that cannot work before storing it: an unreachable broker,
 * refused credentials or vhost, an exchange that does not exist. It declares nothing: a missing
 * queue is fine (the source declares it durable), and the trigger's own queue and binding are
 * made by the running source. The release deletes that queue of a removed trigger.
 */
import amqp, { type ChannelModel } from 'amqplib';
import { AMQP_DEFAULT_PORTS, AMQP_SCHEMES, type AmqpSettings, amqpTriggerQueue } from './amqp-settings.js';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { reasonOf } from './source-support.js';

/** A connection made for one call, or why there is none. */
async function connectOnce(settings: AmqpSettings, secrets: Record<string, string>, timeoutMs: number, name: string): Promise<{ connection: ChannelModel; display: string } | string> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, AMQP_SCHEMES, AMQP_DEFAULT_PORTS);
  } catch (error) {
    return reasonOf(error);
  }
  const { url, display } = address;
  try {
    // `timeout` bounds the TCP connect and the AMQP handshake (credentials and vhost included).
    const connection = await amqp.connect(url.href, { timeout: timeoutMs, clientProperties: { connection_name: name } });
    connection.on('error', () => undefined);
    return { connection, display };
  } catch (error) {
    return `cannot connect to ${display}: ${reasonOf(error)}`;
  }
}

/** Why a trigger with these settings cannot consume now, or undefined when it can. Never throws. */
export async function amqpProblem(settings: AmqpSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  const opened = await connectOnce(settings, secrets, timeoutMs, 'nimbus trigger check');
  if (typeof opened === 'string') return opened;
  const { connection, display } = opened;
  try {
    if (settings.exchange === undefined) return undefined;
    // A failed passive check closes its channel (404), not the connection.
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkExchange(settings.exchange);
      return undefined;
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) {
        return `the exchange ${settings.exchange} does not exist on ${display}: declare it first (Nimbus binds its queue to an existing exchange)`;
      }
      return `${display}: ${reasonOf(error)}`;
    }
  } catch (error) {
    return `${display}: ${reasonOf(error)}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Deletes the queue `nimbus.trigger.<trigger>` that a removed exchange trigger read through (its
 * binding goes with it): left behind, it would keep collecting what the exchange routes to it.
 * A queue the trigger named (`queue`) is the user's and stays. Never throws.
 */
export async function amqpRelease(settings: AmqpSettings, secrets: Record<string, string>, trigger: string, timeoutMs = 3_000): Promise<string | undefined> {
  if (settings.exchange === undefined) return undefined;
  const queue = amqpTriggerQueue(trigger);
  const opened = await connectOnce(settings, secrets, timeoutMs, 'nimbus trigger release');
  if (typeof opened === 'string') return `${opened}; delete the queue ${queue} yourself`;
  const { connection, display } = opened;
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    // Deleting a queue that is not there answers OK.
    await channel.deleteQueue(queue);
    return undefined;
  } catch (error) {
    return `deleting the queue ${queue} on ${display}: ${reasonOf(error)}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
