/**
 * Settings of the `amqp` trigger kind: the schema the API validates them with, and the names the
 * source derives from them.
 */
import { z } from 'zod';
import { brokerUrlSchema, urlSecretSchema } from './broker-settings.js';

/** Schemes an amqp trigger's URL may use. */
export const AMQP_SCHEMES = ['amqp', 'amqps'] as const;

/** The port each scheme means when the URL names none. */
export const AMQP_DEFAULT_PORTS = { amqp: 5672, amqps: 5671 } as const;

/** The routing key an exchange binding uses when none is given: every message (topic exchanges). */
export const DEFAULT_ROUTING_KEY = '#';

/** AMQP 0-9-1 short strings (queue and exchange names, routing keys) hold at most 255 bytes. */
const shortString = (what: string) =>
  z
    .string()
    .refine((value) => Buffer.byteLength(value) <= 255, `${what} is longer than 255 bytes (AMQP's limit)`)
    .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), `${what} has a control character in it`);

/** Settings of an `amqp` trigger (the API body's `settings`). */
export interface AmqpSettings {
  /**
   * The broker, `amqp://host:port/vhost` (or `amqps:`), without credentials.
   * @default 'amqp://127.0.0.1:5672'
   */
  url: string;
  /** Name of the Nimbus secret whose value is the whole URL, credentials included; wins over `url`. */
  urlSecret?: string | undefined;
  /** Consume this queue (declared durable when it does not exist; consumed as it is when it does). */
  queue?: string | undefined;
  /**
   * Consume what this exchange routes to `routingKey`, through the durable queue
   * `nimbus.trigger.<trigger>` Nimbus declares and binds. The exchange must exist.
   */
  exchange?: string | undefined;
  /** The binding's routing key (pattern, for topic exchanges); only with `exchange`. @default '#' */
  routingKey?: string | undefined;
}

export const amqpSettingsSchema: z.ZodType<AmqpSettings> = z
  .strictObject({
    url: brokerUrlSchema(AMQP_SCHEMES, 'amqp://127.0.0.1:5672'),
    urlSecret: urlSecretSchema,
    queue: shortString('queue').min(1, 'queue is empty').optional(),
    exchange: shortString('exchange').min(1, 'exchange is empty: the default exchange cannot be bound; name the queue instead (--amqp-queue)').optional(),
    routingKey: shortString('routingKey').optional(),
  })
  .superRefine((settings, ctx) => {
    if ((settings.queue === undefined) === (settings.exchange === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of queue (--amqp-queue) or exchange (--amqp-exchange)', path: ['queue'] });
    }
    if (settings.routingKey !== undefined && settings.exchange === undefined) {
      ctx.addIssue({ code: 'custom', message: 'routingKey (--routing-key) goes with exchange (--amqp-exchange), not with a queue', path: ['routingKey'] });
    }
  });

/** The name of the queue Nimbus declares for an exchange-bound trigger. */
export function amqpTriggerQueue(trigger: string): string {
  return `nimbus.trigger.${trigger}`;
}
