/**
 * A Redis Stream entry as a trigger event. The payload is the entry's `data` field (else
 * `payload`, else `body`), byte for byte, with its content type from a `content-type`,
 * `contenttype` or `datacontenttype` field and the other fields as extensions (when their names
 * fit CloudEvents). An entry with none of these fields is sent whole, as a JSON object of its
 * fields (UTF-8 text), `application/json`.
 */
import type { TriggerEvent } from '../types.js';
import { addExtensions } from './event-extensions.js';

/** The `ce-type` of every redis event. */
export const REDIS_EVENT_TYPE = 'dev.nimbus.redis.entry';

/** Fields that hold the payload, in order of preference. */
export const PAYLOAD_FIELDS = ['data', 'payload', 'body'] as const;

/** Fields that hold the payload's content type, in order of preference. */
const CONTENT_TYPE_FIELDS = ['content-type', 'contenttype', 'datacontenttype'] as const;

/** One stream entry: its id and its fields in order (names as text, values as bytes). */
export interface StreamEntry {
  id: string;
  fields: Array<[string, Buffer]>;
}

/** The trigger event of one entry of `stream`; `source` names the server and stream. */
export function redisEvent(entry: StreamEntry, stream: string, source: string): TriggerEvent {
  const fields = new Map<string, Buffer>();
  // A field given twice: the first one counts, as HGET-like readers of streams do.
  for (const [name, value] of entry.fields) if (!fields.has(name)) fields.set(name, value);
  const payloadField = PAYLOAD_FIELDS.find((name) => fields.has(name));
  const extensions: Record<string, string> = { redisstream: stream, redisid: entry.id };
  const base = {
    id: `${stream}:${entry.id}`,
    type: REDIS_EVENT_TYPE,
    source,
    subject: stream,
    // An entry id is `<milliseconds>-<sequence>`: when the entry was added.
    ...timeOf(entry.id),
  };
  if (payloadField === undefined) {
    const whole = Object.fromEntries([...fields].map(([name, value]) => [name, value.toString('utf8')]));
    return { ...base, contentType: 'application/json', data: Buffer.from(JSON.stringify(whole)), extensions };
  }
  const contentTypeField = CONTENT_TYPE_FIELDS.find((name) => fields.has(name));
  const contentType = contentTypeField === undefined ? undefined : fields.get(contentTypeField)?.toString('utf8');
  const rest = [...fields].filter(([name]) => name !== payloadField && name !== contentTypeField);
  addExtensions(extensions, rest.map(([name, value]) => [name, value.toString('utf8')]));
  return { ...base, ...(contentType ? { contentType } : {}), data: fields.get(payloadField) as Buffer, extensions };
}

function timeOf(id: string): { time?: number } {
  const milliseconds = Number(id.slice(0, id.indexOf('-')));
  return Number.isSafeInteger(milliseconds) && milliseconds > 0 ? { time: milliseconds } : {};
}
