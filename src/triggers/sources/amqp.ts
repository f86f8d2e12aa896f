/**
 * The `amqp` trigger kind: messages from an AMQP 0-9-1 broker (RabbitMQ), either from a queue
 * (`--amqp-queue`) or from an exchange through a durable queue Nimbus declares and binds
 * (`--amqp-exchange --routing-key`). At-least-once: a message is acknowledged only after the sink
 * took it. The running source is {@link AmqpSource} (amqp-source.ts); docs/triggers-sources.md
 * says what users see.
 */
import type { SourceKind } from '../types.js';
import { amqpProblem, amqpRelease } from './amqp-check.js';
import { type AmqpSettings, amqpSettingsSchema } from './amqp-settings.js';
import { AmqpSource } from './amqp-source.js';

export type { AmqpSettings } from './amqp-settings.js';

/** The `amqp` trigger kind. */
export const amqpSource: SourceKind<AmqpSettings> = {
  type: 'amqp',
  settings: amqpSettingsSchema,
  secretNames: (settings) => (settings.urlSecret === undefined ? [] : [settings.urlSecret]),
  check: (settings, secrets) => amqpProblem(settings, secrets),
  release: (settings, secrets, trigger) => amqpRelease(settings, secrets, trigger),
  create: (context) => new AmqpSource(context),
};
