/**
 * The shared Redis on 127.0.0.1:6379, as the redis source tests use it: is it there, and a client.
 * (A server of a test's own, to kill and restart: `PrivateBroker.redis()` in private-broker.ts.)
 */
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Undefined when Redis answers on 6379; otherwise why not. */
export async function redisUnavailable(url = REDIS_URL): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis not reachable on ${url} (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

/** A client for publishing and inspecting, connected on first use. */
export function redisClient(url = REDIS_URL): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}
