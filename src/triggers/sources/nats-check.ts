/**
 * One-off calls of a `nats` trigger against its server, outside the running source: the check
 * for the API to refuse a trigger that cannot work before storing it (unreachable server, wrong
 * credentials, a JetStream stream that does not exist; a started source never fails on these, it
 * reports `failing` and retries), and the release of a removed trigger's durable consumer.
 */
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { NATS_DEFAULT_PORT, NATS_SCHEMES, natsServerOf } from './nats-connection.js';
import { consumerNameOf, type NatsSettings } from './nats-settings.js';
import { reasonOf } from './source-support.js';

/** A connection made for one call, or why there is none. */
type Opened = { connection: NatsConnection; address: BrokerAddress } | string;

async function connectOnce(settings: NatsSettings, secrets: Record<string, string>, timeoutMs: number): Promise<Opened> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, NATS_SCHEMES, NATS_DEFAULT_PORT);
  } catch (error) {
    return reasonOf(error);
  }
  try {
    const connection = await connect({
      ...natsServerOf(address.url),
      timeout: timeoutMs,
      reconnect: false,
    });
    return { connection, address };
  } catch (error) {
    return `cannot connect to ${address.display}: ${reasonOf(error)}`;
  }
}

/** Why a trigger with these settings cannot consume now, or undefined when it can. Never throws. */
export async function natsProblem(settings: NatsSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  const opened = await connectOnce(settings, secrets, timeoutMs);
  if (typeof opened === 'string') return opened;
  const { connection, address } = opened;
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

/**
 * Deletes the durable consumer a removed JetStream trigger read through, when Nimbus named it
 * (`nimbus-<trigger>`): left behind, it would hold the stream's messages for a reader that never
 * comes back (an interest or work-queue stream keeps them for it). A consumer the trigger named
 * with `consumer` is the user's and stays, as does anything of a core NATS trigger (the server
 * keeps nothing for it). Answers why it could not, or undefined. Never throws.
 */
export async function natsRelease(settings: NatsSettings, secrets: Record<string, string>, trigger: string, timeoutMs = 3_000): Promise<string | undefined> {
  if (settings.stream === undefined || settings.consumer !== undefined) return undefined;
  const durable = consumerNameOf(settings, trigger);
  const opened = await connectOnce(settings, secrets, timeoutMs);
  if (typeof opened === 'string') return `${opened}; remove the consumer yourself: nats consumer rm ${settings.stream} ${durable}`;
  const { connection, address } = opened;
  try {
    const manager = await jetstreamManager(connection, { timeout: timeoutMs });
    await manager.consumers.delete(settings.stream, durable);
    return undefined;
  } catch (error) {
    const gone = error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound);
    return gone ? undefined : `deleting the consumer ${durable} of stream ${settings.stream} on ${address.display}: ${reasonOf(error)}`;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
