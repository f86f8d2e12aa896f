/**
 * Settings of the `redis` trigger kind (Redis Streams): the schema the API validates them with,
 * and the names the source derives from them.
 */
import { z } from 'zod';
import { brokerUrlSchema, urlSecretSchema } from './broker-settings.js';

/** Schemes a redis trigger's URL may use. */
export const REDIS_SCHEMES = ['redis', 'rediss'] as const;

/** The port a redis URL means when it names none. */
export const REDIS_DEFAULT_PORT = 6379;

/** Stream keys and group names: printable, no spaces (they are also shown in tables and logs). */
const name = (what: string) =>
  z
    .string()
    .min(1, `${what} is empty`)
    .max(512, `${what} is longer than 512 characters`)
    .regex(/^[^\s\u0000-\u001f\u007f]+$/, `${what} has a space or a control character in it`);

/** Settings of a `redis` trigger (the API body's `settings`). */
export interface RedisSettings {
  /**
   * The server, `redis://host:port/db` (or `rediss:`), without credentials.
   * @default 'redis://127.0.0.1:6379'
   */
  url: string;
  /** Name of the Nimbus secret whose value is the whole URL, credentials included; wins over `url`. */
  urlSecret?: string | undefined;
  /** The stream key. */
  stream: string;
  /**
   * The consumer group (created at `$`, with MKSTREAM, when missing).
   * @default 'nimbus.trigger.<trigger>'
   */
  group?: string | undefined;
}

export const redisSettingsSchema: z.ZodType<RedisSettings> = z.strictObject({
  url: brokerUrlSchema(REDIS_SCHEMES, 'redis://127.0.0.1:6379'),
  urlSecret: urlSecretSchema,
  stream: name('stream'),
  group: name('group').optional(),
});

/** The consumer group a trigger reads with when it names none. */
export function redisTriggerGroup(trigger: string): string {
  return `nimbus.trigger.${trigger}`;
}

/**
 * The consumer name a trigger reads as: the same across restarts, so the entries it read and did
 * not acknowledge before a crash are its own pending entries when it starts again.
 */
export function redisTriggerConsumer(trigger: string): string {
  return `nimbus.trigger.${trigger}`;
}
