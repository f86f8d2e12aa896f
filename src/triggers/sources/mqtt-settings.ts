/**
 * The settings of an `mqtt` trigger (the API body's `settings`), validated and defaulted by zod.
 */
import { z } from 'zod';
import { brokerUrlSchema, urlSecretSchema } from './broker-settings.js';

/** Schemes an mqtt trigger's URL may use (`mqtts` is TLS). */
export const MQTT_SCHEMES = ['mqtt', 'mqtts'] as const;

/**
 * The port shown for a URL that names none (status reasons, `ce-source`). It stays 1883 for
 * `mqtts` too, as it always has; the client connects to 8883 ({@link mqttServerOf}).
 */
export const MQTT_DISPLAY_PORT = 1883;

/** Why `filter` is not an MQTT topic filter, or undefined. */
function topicFilterProblem(filter: string): string | undefined {
  const rule = `'${filter}' is not an MQTT topic filter: levels separated by '/', '+' alone in a level matches one, '#' alone in the last level matches the rest`;
  if (filter.length === 0 || Buffer.byteLength(filter) > 65_535 || filter.includes('\u0000')) return rule;
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level === '#' && i === levels.length - 1) continue;
    if (level === '+') continue;
    if (level.includes('#') || level.includes('+')) return rule;
  }
  return undefined;
}

/** Settings of an `mqtt` trigger. */
export const mqttSettingsSchema = z
  .object({
    /** The broker, `mqtt://host:port` (or `mqtts://`), without credentials. @default 'mqtt://127.0.0.1:1883' */
    url: brokerUrlSchema(MQTT_SCHEMES, 'mqtt://127.0.0.1:1883'),
    /** A secret whose value is the whole URL (credentials included); wins over `url`. */
    urlSecret: urlSecretSchema,
    /** The topic filter (`+` and `#` wildcards allowed). */
    topic: z.string().superRefine((value, ctx) => {
      const problem = topicFilterProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    /**
     * 1: a persistent session, PUBACK once the event is queued (at-least-once; messages published
     * while Nimbus is down wait on the broker). 0: at-most-once, no session. @default 1
     */
    qos: z.union([z.literal(0), z.literal(1)], { message: 'qos is 0 or 1' }).default(1),
  })
  .strict();

export type MqttSettings = z.output<typeof mqttSettingsSchema>;

/** The MQTT client id of a trigger: stable, so a restarted platform resumes the trigger's session. */
export function mqttClientIdOf(trigger: string): string {
  return `nimbus-${trigger}`;
}

/** Where mqtt.js connects for `url`, and as whom (credentials come only from a secret's URL). */
export function mqttServerOf(url: URL) {
  return {
    protocol: url.protocol === 'mqtts:' ? ('mqtts' as const) : ('mqtt' as const),
    // mqtt.js wants an IPv6 host without the brackets a URL keeps.
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883)),
    ...(url.username !== '' ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
  };
}
