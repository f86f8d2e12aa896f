import { createHash } from 'node:crypto';
import type { TriggerEvent } from './types.js';

/** The header naming the trigger that fired an invocation (the function sees it beside the ce- headers). */
export const TRIGGER_HEADER = 'x-nimbus-trigger';

/** An event as the HTTP request a function receives: CloudEvents 1.0, binary content mode. */
export interface CloudEventRequest {
  method: 'POST';
  path: '/';
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The CloudEvents 1.0 HTTP binding, binary mode: the context attributes as `ce-` headers, the
 * data as the body, byte for byte, its media type as `content-type`. `now` is the time when the
 * event does not say when it happened.
 */
export function cloudEventRequest(trigger: string, event: TriggerEvent, now: number): CloudEventRequest {
  const headers: Record<string, string> = {
    'ce-specversion': '1.0',
    'ce-id': headerValue(event.id),
    'ce-source': headerValue(event.source),
    'ce-type': headerValue(event.type),
    'ce-time': new Date(event.time ?? now).toISOString(),
  };
  if (event.subject !== undefined) headers['ce-subject'] = headerValue(event.subject);
  for (const [name, value] of Object.entries(event.extensions ?? {})) {
    // CloudEvents extension names: a-z and 0-9, at most 20 characters; others would clash or break.
    if (/^[a-z0-9]{1,20}$/.test(name) && !(`ce-${name}` in headers)) headers[`ce-${name}`] = headerValue(value);
  }
  if (event.contentType !== undefined) headers['content-type'] = headerValue(event.contentType);
  headers[TRIGGER_HEADER] = trigger;
  return { method: 'POST', path: '/', headers, body: event.data };
}

/**
 * The invocation id of an event: the same for every delivery of one event to one trigger (a
 * broker's redelivery after a crash), so the acceptor stores it once, even when the platform was
 * killed between its queue write and its record write. UUID-shaped (version 8: custom, RFC 9562)
 * from a SHA-256 of the trigger and the event id, so it fits wherever invocation ids go.
 */
export function eventInvocationId(trigger: string, eventId: string): string {
  const hash = createHash('sha256').update(trigger).update('\0').update(eventId).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A header value as the CloudEvents HTTP binding writes it (3.1.3.2): space, `"`, `%` and every
 * character outside printable ASCII percent-encoded as UTF-8, so any id or subject travels intact.
 */
export function headerValue(value: string): string {
  return value.replace(/[^\x21\x23\x24\x26-\x7e]+/g, (run) => [...Buffer.from(run, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}
