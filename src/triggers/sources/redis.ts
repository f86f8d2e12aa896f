/**
 * The `redis` trigger kind: entries of a Redis Stream, read with a consumer group. At-least-once:
 * an entry is acknowledged (XACK) only after the sink took it, and entries left pending by a crash
 * are read again at the next start. The running source is {@link RedisSource} (redis-source.ts);
 * docs/triggers-sources.md says what users see.
 */
import type { SourceKind } from '../types.js';
import { redisProblem, redisRelease } from './redis-check.js';
import { type RedisSettings, redisSettingsSchema } from './redis-settings.js';
import { RedisSource } from './redis-source.js';

export type { RedisSettings } from './redis-settings.js';

/** The `redis` trigger kind. */
export const redisSource: SourceKind<RedisSettings> = {
  type: 'redis',
  settings: redisSettingsSchema,
  secretNames: (settings) => (settings.urlSecret === undefined ? [] : [settings.urlSecret]),
  check: (settings, secrets) => redisProblem(settings, secrets),
  release: (settings, secrets, trigger) => redisRelease(settings, secrets, trigger),
  create: (context) => new RedisSource(context),
};
