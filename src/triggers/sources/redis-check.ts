/**
 * A one-off check of a `redis` trigger's settings against its server, for the API to refuse a
 * trigger that cannot work before storing it: an unreachable server, refused credentials, a key
 * that holds something else than a stream. It writes nothing: the running source creates the
 * consumer group (and the stream, with MKSTREAM) itself.
 */
import { Redis } from 'ioredis';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { REDIS_DEFAULT_PORT, REDIS_SCHEMES, type RedisSettings } from './redis-settings.js';
import { reasonOf } from './source-support.js';

/** Why a trigger with these settings cannot consume now, or undefined when it can. Never throws. */
export async function redisProblem(settings: RedisSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, REDIS_SCHEMES, REDIS_DEFAULT_PORT);
  } catch (error) {
    return reasonOf(error);
  }
  const { url, display } = address;
  const redis = new Redis(url.href, {
    lazyConnect: true,
    connectionName: 'nimbus-trigger-check',
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // One attempt: the check answers now, the running source is the one that retries.
    retryStrategy: () => null,
  });
  // connect() rejects with "Connection is closed"; the error event before it says why (ECONNREFUSED…).
  let cause: unknown;
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    // connect() also sends AUTH from the URL: refused credentials reject here.
    await redis.connect();
  } catch (error) {
    return `cannot connect to ${display}: ${reasonOf(cause ?? error)}`;
  }
  try {
    const type = await redis.type(settings.stream);
    if (type !== 'none' && type !== 'stream') return `the key ${settings.stream} on ${display} holds a ${type}, not a stream: name another key`;
    return undefined;
  } catch (error) {
    return `${display}: ${reasonOf(error)}`;
  } finally {
    redis.disconnect();
  }
}
