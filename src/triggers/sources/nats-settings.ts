/**
 * The settings of a `nats` trigger (the API body's `settings`), validated and defaulted by zod.
 */
import { z } from 'zod';
import { brokerUrlSchema, urlSecretSchema } from './broker-settings.js';

/** Stream and consumer names: no whitespace, `.`, `*`, `>`, path separators (NATS's rule). */
const NAME = /^[^\s.*>/\\]{1,255}$/;

function subjectProblem(subject: string): string | undefined {
  const tokens = subject.split('.');
  for (const [i, token] of tokens.entries()) {
    if (token === '>' && i === tokens.length - 1) continue;
    if (token === '*') continue;
    if (token === '' || !/^[^\s*>]+$/.test(token)) {
      return `'${subject}' is not a NATS subject: dot-separated tokens without spaces; '*' matches one token, '>' the rest (last)`;
    }
  }
  return undefined;
}

/** Settings of a `nats` trigger (the API body's `settings`). */
export const natsSettingsSchema = z
  .object({
    /** The server, `nats://host:port` (or `tls://`), without credentials. @default 'nats://127.0.0.1:4222' */
    url: brokerUrlSchema(['nats', 'tls'], 'nats://127.0.0.1:4222'),
    /** A secret whose value is the whole URL (credentials included); wins over `url`. */
    urlSecret: urlSecretSchema,
    /** The subject (wildcards `*` and `>` allowed); with `stream`, the consumer's filter within the stream. */
    subject: z.string().superRefine((value, ctx) => {
      const problem = subjectProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    /** A JetStream stream (which must exist): consume it at-least-once through a durable pull consumer. */
    stream: z.string().regex(NAME, 'a stream name has no spaces, dots, * or >').optional(),
    /** The durable consumer's name. @default `nimbus-<trigger>` */
    consumer: z.string().regex(NAME, 'a consumer name has no spaces, dots, * or >').optional(),
  })
  .strict()
  .refine((settings) => settings.consumer === undefined || settings.stream !== undefined, {
    message: 'consumer needs stream: a durable consumer reads a JetStream stream (--stream)',
    path: ['consumer'],
  });

export type NatsSettings = z.output<typeof natsSettingsSchema>;

/** The durable consumer of a JetStream trigger: `consumer`, or `nimbus-<trigger>`. */
export function consumerNameOf(settings: NatsSettings, trigger: string): string {
  return settings.consumer ?? `nimbus-${trigger}`;
}
