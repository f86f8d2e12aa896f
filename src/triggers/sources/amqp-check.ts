/**
 * A one-off check of an `amqp` trigger's settings against its broker, for the API to refuse a
 * trigger that cannot work before storing it: an unreachable broker, refused credentials or vhost,
 * an exchange that does not exist. It declares nothing: a missing queue is fine (the source
 * declares it durable), and the trigger's own queue and binding are made by the running source.
 */
import amqp from 'amqplib';
import { AMQP_DEFAULT_PORTS, AMQP_SCHEMES, type AmqpSettings } from './amqp-settings.js';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { reasonOf } from './source-support.js';

/** Why a trigger with these settings cannot consume now, or undefined when it can. Never throws. */
export async function amqpProblem(settings: AmqpSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, AMQP_SCHEMES, AMQP_DEFAULT_PORTS);
  } catch (error) {
    return reasonOf(error);
  }
  const { url, display } = address;
  let connection;
  try {
    // `timeout` bounds the TCP connect and the AMQP handshake (credentials and vhost included).
    connection = await amqp.connect(url.href, { timeout: timeoutMs, clientProperties: { connection_name: 'nimbus trigger check' } });
  } catch (error) {
    return `cannot connect to ${display}: ${reasonOf(error)}`;
  }
  connection.on('error', () => undefined);
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
