/**
 * A one-off check of a `nats` trigger's settings against its server, for the API to refuse a
 * trigger that cannot work before storing it (unreachable server, wrong credentials, a JetStream
 * stream that does not exist). Not part of the running source: a started source never fails on
 * these, it reports `failing` and retries.
 */
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { NATS_DEFAULT_PORT, NATS_SCHEMES } from './nats-connection.js';
import type { NatsSettings } from './nats-settings.js';
import { reasonOf } from './source-support.js';

/** Why a trigger with these settings cannot consume now, or undefined when it can. Never throws. */
export async function natsProblem(settings: NatsSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, NATS_SCHEMES, NATS_DEFAULT_PORT);
  } catch (error) {
    return reasonOf(error);
  }
  const { url } = address;
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  let connection;
  try {
    connection = await connect({
      servers: `${url.hostname}:${url.port || NATS_DEFAULT_PORT}`,
      ...(user !== '' && pass !== '' ? { user, pass } : user !== '' ? { token: user } : {}),
      ...(url.protocol === 'tls:' ? { tls: {} } : {}),
      timeout: timeoutMs,
      reconnect: false,
    });
  } catch (error) {
    return `cannot connect to ${address.display}: ${reasonOf(error)}`;
  }
  try {
    if (settings.stream === undefined) return undefined;
    const manager = await jetstreamManager(connection, { timeout: timeoutMs });
    await manager.streams.info(settings.stream);
    return undefined;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      return `the stream ${settings.stream} does not exist on ${address.display}: create it first`;
    }
    return `JetStream on ${address.display}: ${reasonOf(error)}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
