/**
 * CloudEvents 1.0 over HTTP, as received by `POST /events`: binary mode (`ce-*` headers, the body
 * is the data), structured mode (`application/cloudevents+json`) and batched mode
 * (`application/cloudevents-batch+json`), per the HTTP protocol binding and the JSON event format
 * (CloudEvents 1.0.2). Pure: headers and body in, {@link TriggerEvent}s out, or a NimbusError
 * `INVALID_CLOUDEVENT` naming the attribute (and the batch index) at fault.
 *
 * Written here rather than with the `cloudevents` npm package (10.0.0, tried on Node 20): its
 * `HTTP.toEvent` accepts what the spec refuses and changes what it is given: an invalid `time`
 * becomes the current time, a missing `time` is invented, bad base64 becomes empty data, `data`
 * and `data_base64` together pass, object-valued extensions and over-long names pass, and a batch
 * that is not an array throws a TypeError; `validate()` catches only some of it. Checking all of
 * that again around it would be this module anyway, plus browser polyfills (`process`, `util`).
 */
import { NimbusError } from '../core/errors.js';
import type { TriggerEvent } from './types.js';

/** Which HTTP content mode a request used. */
export type CloudEventsMode = 'binary' | 'structured' | 'batch';

/** Header values as node:http gives them. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
/** Context attributes with a meaning of their own; any other attribute is an extension. */
const KNOWN = new Set(['specversion', 'id', 'source', 'type', 'datacontenttype', 'dataschema', 'subject', 'time']);
/** CloudEvents 1.0: lower-case a-z and 0-9; the spec's 20-character advice is a rule here (the sink's headers). */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+\s*(?:;.*)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A URI-reference has no spaces or control characters (RFC 3986); its finer grammar is not checked. */
const URI_REFERENCE = /^[^\s\p{Cc}]+$/u;
const INT32 = 2 ** 31;

/** The events of one request and the mode they came in. */
export interface ParsedCloudEvents {
  mode: CloudEventsMode;
  events: TriggerEvent[];
}

/**
 * Reads the CloudEvents of one HTTP request. The mode follows the content type: the two
 * CloudEvents JSON types are structured and batched; anything else with a `ce-specversion` header
 * is binary. A batch is all or nothing: one invalid event refuses the request.
 * @throws NimbusError `INVALID_CLOUDEVENT` (or `UNSUPPORTED_MEDIA_TYPE` for a CloudEvents format other than JSON)
 */
export function parseCloudEvents(headers: RequestHeaders, body: Buffer): ParsedCloudEvents {
  const contentType = single(headers['content-type'], 'content-type');
  const mediaType = contentType?.split(';')[0]!.trim().toLowerCase();
  if (mediaType === BATCH) {
    const parsed = parseJson(body);
    if (!Array.isArray(parsed)) throw invalid('A batch (application/cloudevents-batch+json) must be a JSON array of events.', { field: 'body' });
    return { mode: 'batch', events: parsed.map((member, index) => structuredEvent(member, index)) };
  }
  if (mediaType === STRUCTURED) return { mode: 'structured', events: [structuredEvent(parseJson(body), undefined)] };
  if (mediaType?.startsWith('application/cloudevents')) {
    throw new NimbusError('UNSUPPORTED_MEDIA_TYPE', `Only the JSON event format is accepted (${STRUCTURED} or ${BATCH}), not ${JSON.stringify(mediaType.slice(0, 100))}.`, {
      details: { field: 'content-type' },
    });
  }
  if (headers['ce-specversion'] === undefined) {
    throw invalid(`Not a CloudEvent: send the attributes as ce-* headers (binary mode: ce-specversion, ce-id, ce-source, ce-type) or a ${STRUCTURED} body.`, { field: 'ce-specversion' });
  }
  return { mode: 'binary', events: [binaryEvent(headers, contentType, body)] };
}

/** Binary mode: attributes in `ce-` headers (percent-encoded), `content-type` is `datacontenttype`, the body is the data byte for byte. */
function binaryEvent(headers: RequestHeaders, contentType: string | undefined, body: Buffer): TriggerEvent {
  const attributes: Record<string, string> = {};
  for (const [header, raw] of Object.entries(headers)) {
    if (!header.startsWith('ce-') || raw === undefined) continue;
    const name = header.slice(3);
    if (name === 'datacontenttype') throw invalid('In binary mode the data content type is the content-type header, not ce-datacontenttype.', { field: header });
    const value = single(raw, header)!;
    try {
      attributes[name] = decodeURIComponent(value);
    } catch {
      throw invalid(`The ${header} header is not validly percent-encoded.`, { field: header });
    }
  }
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return toTriggerEvent(attributes, body, (name) => `ce-${name}`, undefined);
}

/** Structured mode (one member of a batch too): a JSON object with the attributes, and `data` or `data_base64`. */
function structuredEvent(value: unknown, index: number | undefined): TriggerEvent {
  const at = index === undefined ? '' : ` (event ${index} of the batch)`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`An event must be a JSON object${at}.`, withIndex({ field: 'body' }, index));
  const attributes: Record<string, string> = {};
  let data: unknown;
  let dataBase64: unknown;
  for (const [name, member] of Object.entries(value as Record<string, unknown>)) {
    // JSON format: a null attribute is an absent one.
    if (member === null && name !== 'data') continue;
    if (name === 'data') data = member;
    else if (name === 'data_base64') dataBase64 = member;
    else attributes[name] = attributeValue(name, member, index);
  }
  if (data !== undefined && dataBase64 !== undefined) throw invalid(`An event has either data or data_base64, not both${at}.`, withIndex({ field: 'data_base64' }, index));
  let bytes = Buffer.alloc(0);
  if (dataBase64 !== undefined) {
    if (typeof dataBase64 !== 'string' || !BASE64.test(dataBase64)) throw invalid(`data_base64 is not valid base64${at}.`, withIndex({ field: 'data_base64' }, index));
    bytes = Buffer.from(dataBase64, 'base64');
  } else if (data !== undefined) {
    const declared = attributes.datacontenttype;
    if (declared === undefined || isJsonMediaType(declared)) {
      attributes.datacontenttype ??= 'application/json';
      bytes = Buffer.from(JSON.stringify(data));
    } else if (typeof data === 'string') {
      bytes = Buffer.from(data, 'utf8');
    } else {
      throw invalid(`data of type ${declared} must be a JSON string (or send the bytes in data_base64)${at}.`, withIndex({ field: 'data' }, index));
    }
  }
  return toTriggerEvent(attributes, bytes, (name) => name, index);
}

/** An attribute's canonical string (JSON format: strings, booleans and 32-bit integers). */
function attributeValue(name: string, member: unknown, index: number | undefined): string {
  if (typeof member === 'string') return member;
  if (!KNOWN.has(name)) {
    if (typeof member === 'boolean') return String(member);
    if (typeof member === 'number' && Number.isInteger(member) && member >= -INT32 && member < INT32) return String(member);
  }
  throw invalid(`The attribute ${JSON.stringify(name.slice(0, 40))} must be a string${KNOWN.has(name) ? '' : ', a boolean or a 32-bit integer'}.`, withIndex({ field: name.slice(0, 40) }, index));
}

/** Checks the context attributes and builds the event. `label` names an attribute as the client sent it. */
function toTriggerEvent(attributes: Record<string, string>, data: Buffer, label: (name: string) => string, index: number | undefined): TriggerEvent {
  const fail = (message: string, name: string) => invalid(index === undefined ? message : `${message} (event ${index} of the batch)`, withIndex({ field: label(name) }, index));
  for (const name of Object.keys(attributes)) {
    if (!ATTRIBUTE_NAME.test(name) || name === 'data') {
      throw fail(`${JSON.stringify(label(name).slice(0, 40))} is not a valid attribute name: CloudEvents attribute names are 1-20 lower-case letters and digits.`, name.slice(0, 40));
    }
  }
  const { specversion, id, source, type, datacontenttype, dataschema, subject, time } = attributes;
  if (specversion === undefined) throw fail('The specversion attribute is required (1.0).', 'specversion');
  if (specversion !== '1.0') throw fail(`specversion ${JSON.stringify(specversion.slice(0, 20))} is not supported; send 1.0.`, 'specversion');
  for (const [name, value] of [['id', id], ['source', source], ['type', type]] as const) {
    if (value === undefined || value === '') throw fail(`The ${name} attribute is required and must not be empty.`, name);
  }
  if (!URI_REFERENCE.test(source!)) throw fail('source must be a URI-reference (no spaces or control characters).', 'source');
  if (subject === '') throw fail('subject must not be empty when present.', 'subject');
  if (dataschema !== undefined && !URI_REFERENCE.test(dataschema)) throw fail('dataschema must be a URI.', 'dataschema');
  if (datacontenttype !== undefined && !MEDIA_TYPE.test(datacontenttype)) throw fail('datacontenttype must be a media type (RFC 2046), e.g. application/json.', 'datacontenttype');
  let epochMs: number | undefined;
  if (time !== undefined) {
    epochMs = RFC3339.test(time) ? Date.parse(time) : Number.NaN;
    if (!Number.isFinite(epochMs)) throw fail('time must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z.', 'time');
  }
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) if (!KNOWN.has(name) || name === 'dataschema') extensions[name] = value;
  return {
    id: id!,
    type: type!,
    source: source!,
    ...(subject !== undefined ? { subject } : {}),
    ...(epochMs !== undefined ? { time: epochMs } : {}),
    ...(datacontenttype !== undefined ? { contentType: datacontenttype } : {}),
    data,
    // dataschema has no field of its own in TriggerEvent: as an "extension" it is sent as ce-dataschema, its binary-mode header.
    ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
  };
}

/** `application/json`, `text/json` and any `…+json`. */
function isJsonMediaType(type: string): boolean {
  const media = type.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || media === 'text/json' || media.endsWith('+json');
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw invalid(`The body is not valid JSON: ${(err as Error).message}`, { field: 'body' });
  }
}

function single(value: string | string[] | undefined, header: string): string | undefined {
  if (Array.isArray(value)) {
    if (value.length !== 1) throw invalid(`The ${header} header is sent more than once.`, { field: header });
    return value[0];
  }
  return value;
}

function withIndex(details: Record<string, unknown>, index: number | undefined): Record<string, unknown> {
  return index === undefined ? details : { ...details, index };
}

function invalid(message: string, details: Record<string, unknown>): NimbusError {
  return new NimbusError('INVALID_CLOUDEVENT', message, { details });
}
