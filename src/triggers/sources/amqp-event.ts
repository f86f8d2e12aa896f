/**
 * An AMQP message as a trigger event: its id (stable across redeliveries), CloudEvents attributes
 * and extensions.
 */
import { createHash } from 'node:crypto';
import type { Message } from 'amqplib';
import type { TriggerEvent } from '../types.js';
import { addExtensions } from './event-extensions.js';

/** The `ce-type` of every amqp event. */
export const AMQP_EVENT_TYPE = 'dev.nimbus.amqp.message';

/** Where a source's messages come from, for their `source` and `subject`. */
export interface AmqpOrigin {
  /** `amqp://host:port/<vhost>/<queue or exchange>`, without credentials. */
  source: string;
  /** The queue the source consumes. */
  queue: string;
}

/**
 * Headers a broker changes when it redelivers a message (quorum queues count deliveries): left out
 * of the content hash, or a redelivery would get another id.
 */
const REDELIVERY_HEADERS = new Set(['x-delivery-count']);

/** Message properties sent as extensions, under names that fit CloudEvents. */
const PROPERTY_EXTENSIONS = [
  ['correlationId', 'amqpcorrelationid'],
  ['replyTo', 'amqpreplyto'],
  ['type', 'amqptype'],
  ['appId', 'amqpappid'],
  ['userId', 'amqpuserid'],
  ['contentEncoding', 'amqpcontentencoding'],
  ['priority', 'amqppriority'],
] as const;

/** The trigger event of one message. */
export function amqpEvent(message: Message, origin: AmqpOrigin): TriggerEvent {
  const { fields, properties } = message;
  const extensions: Record<string, string> = { amqpredelivered: String(fields.redelivered) };
  if (fields.exchange !== '') extensions.amqpexchange = fields.exchange;
  if (fields.routingKey !== '') extensions.amqproutingkey = fields.routingKey;
  addExtensions(extensions, PROPERTY_EXTENSIONS.map(([property, name]) => [name, properties[property] as unknown]));
  addExtensions(extensions, Object.entries(properties.headers ?? {}));
  const timestamp = properties.timestamp as unknown;
  return {
    id: amqpEventId(message),
    type: AMQP_EVENT_TYPE,
    source: origin.source,
    subject: fields.routingKey !== '' ? fields.routingKey : origin.queue,
    // AMQP timestamps are seconds since the epoch.
    ...(typeof timestamp === 'number' && Number.isFinite(timestamp) ? { time: timestamp * 1000 } : {}),
    ...(typeof properties.contentType === 'string' && properties.contentType !== '' ? { contentType: properties.contentType } : {}),
    data: message.content,
    extensions,
  };
}

/**
 * The message's `messageId` when the publisher set one; otherwise a SHA-256 of what a redelivery
 * keeps: exchange, routing key, properties, headers (less the delivery counter) and body. The
 * delivery tag, consumer tag and redelivered flag change between deliveries and are left out. Two
 * messages alike in all of these have one id, and the sink takes the second as a redelivery of the
 * first (docs/triggers-sources.md: publishers that send identical messages set a messageId or a
 * timestamp).
 */
export function amqpEventId(message: Message): string {
  const { fields, properties } = message;
  if (typeof properties.messageId === 'string' && properties.messageId !== '') return properties.messageId;
  const headers = Object.entries(properties.headers ?? {}).filter(([name]) => !REDELIVERY_HEADERS.has(name));
  const described = { ...properties, headers: Object.fromEntries(headers) };
  const hash = createHash('sha256');
  for (const part of [fields.exchange, fields.routingKey, canonicalJson(described)]) hash.update(`${Buffer.byteLength(part)}:${part};`);
  hash.update(message.content);
  return `amqp-sha256-${hash.digest('hex')}`;
}

/** JSON with object keys sorted (so equal values give equal text), Buffers and bigints as text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return item.toString();
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      // JSON.stringify has already turned Buffers into { type: 'Buffer', data: [...] } here.
      const entries = Object.entries(item as Record<string, unknown>).filter(([, v]) => v !== undefined);
      return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return item;
  });
}
