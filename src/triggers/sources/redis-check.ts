/**
 * One-off calls of a `redis` trigger against its server, outside the running source. The check,
 * for the API to refuse a trigger that cannot work before storing it: an unreachable server,
 * refused credentials, a key that holds something else than a stream. It writes nothing: the
 * running source creates the consumer group (and the stream, with MKSTREAM) itself. The release
 * destroys that group of a removed trigger.
 */
import { Redis } from 'ioredis';
import { brokerAddress, type BrokerAddress } from './broker-settings.js';
import { REDIS_DEFAULT_PORT, REDIS_SCHEMES, type RedisSettings, redisTriggerGroup } from './redis-settings.js';
import { reasonOf } from './source-support.js';

/** A connection made for one call, or why there is none. */
async function connectOnce(settings: RedisSettings, secrets: Record<string, string>, timeoutMs: number, name: string): Promise<{ redis: Redis; display: string } | string> {
  let address: BrokerAddress;
  try {
    address = brokerAddress(settings, secrets, REDIS_SCHEMES, REDIS_DEFAULT_PORT);
  } catch (error) {
    return reasonOf(error);
  }
  const { url, display } = address;
  const redis = new Redis(url.href, {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // One attempt: the call answers now, the running source is the one that retries.
    retryStrategy: () => null,
  });
  // connect() rejects with "Connection is closed"; the error event before it says why (ECONNREFUSED…).
  let cause: unknown;
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    // connect() also sends AUTH from the URL: refused credentials reject here.
    await redis.connect();
    return { redis, display };
  } catch (error) {
    return `cannot connect to ${display}: ${reasonOf(cause ?? error)}`;
  }
}

/** Why a trigger with these settings cannot consume now, or undefined when it can. Never throws. */
export async function redisProblem(settings: RedisSettings, secrets: Record<string, string>, timeoutMs = 3_000): Promise<string | undefined> {
  const opened = await connectOnce(settings, secrets, timeoutMs, 'nimbus-trigger-check');
  if (typeof opened === 'string') return opened;
  const { redis, display } = opened;
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

/**
 * Destroys the consumer group `nimbus.trigger.<trigger>` a removed trigger read with (its pending
 * entries go with it). A group the trigger named (`group`) is the user's and stays, and so does
 * the stream. Never throws.
 */
export async function redisRelease(settings: RedisSettings, secrets: Record<string, string>, trigger: string, timeoutMs = 3_000): Promise<string | undefined> {
  if (settings.group !== undefined) return undefined;
  const group = redisTriggerGroup(trigger);
  const opened = await connectOnce(settings, secrets, timeoutMs, 'nimbus-trigger-release');
  if (typeof opened === 'string') return `${opened}; remove the group yourself: XGROUP DESTROY ${settings.stream} ${group}`;
  const { redis, display } = opened;
  try {
    // Answers 0 for a group that is not there; a key that is gone is fine too.
    if ((await redis.exists(settings.stream)) === 1) await redis.xgroup('DESTROY', settings.stream, group);
    return undefined;
  } catch (error) {
    return `destroying the group ${group} of ${settings.stream} on ${display}: ${reasonOf(error)}`;
  } finally {
    redis.disconnect();
  }
}
