import type { InvocationSource, TraceContext } from '../core/invocation.js';

/**
 * An accepted async invocation as the queue keeps it: the whole request, binary-safe, and what
 * the platform must do with it. Encoded as an envelope ({@link encodeEnvelope}): JSON for
 * everything but the body, then the body's raw bytes, so bodies are neither re-encoded nor
 * inflated by base64.
 */
export interface StoredRequest {
  /** Function to invoke. */
  function: string;
  method: string;
  /** Path and query as the function sees them. */
  path: string;
  /** Headers for the function (already without hop-by-hop and client `x-nimbus-*` ones). */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Epoch milliseconds of acceptance (for the maximum event age and the record). */
  acceptedAt: number;
  /** Where to POST the outcome when the invocation ends. */
  callbackUrl?: string | undefined;
  /** The caller's Idempotency-Key, kept so that a record made by the worker (see AsyncAcceptor) holds it. */
  idempotencyKey?: string | undefined;
  /** What brought it: an HTTP caller (`async`), a destination or a trigger. */
  source: InvocationSource;
  /** The trigger whose event this is, when `source` is `trigger`. */
  trigger?: string | undefined;
  /**
   * The W3C trace context of the accepting request (the accept span's when tracing is on, else the
   * caller's own `traceparent`): every attempt continues it. Absent when there was none.
   */
  traceContext?: TraceContext | undefined;
}

/** Layout version, first in the JSON: a future change of the format can tell old items apart. */
const FORMAT = 1;

/**
 * Every field of `T` present, optional ones possibly undefined: an object literal of this type is
 * built field by field (cheaper than rest and spread on the accept path) and still cannot miss a
 * field added to `T` later.
 */
export type EveryField<T> = { [K in keyof Required<T>]: T[K] };

/** Encodes a request for the queue. */
export function encodeStoredRequest(request: StoredRequest): Buffer {
  // Fields left undefined are left out by JSON.stringify, as absent ones were.
  const meta: EveryField<Omit<StoredRequest, 'body'>> & { v: number } = {
    v: FORMAT,
    function: request.function,
    method: request.method,
    path: request.path,
    headers: request.headers,
    acceptedAt: request.acceptedAt,
    callbackUrl: request.callbackUrl,
    idempotencyKey: request.idempotencyKey,
    source: request.source,
    trigger: request.trigger,
    traceContext: request.traceContext,
  };
  return envelopeOf(JSON.stringify(meta), request.body);
}

/** The optional fields of a stored request, copied by {@link decodeStoredRequest} only when present. */
const OPTIONAL_FIELDS = ['callbackUrl', 'idempotencyKey', 'trigger', 'traceContext'] as const;

/** Fails to compile when StoredRequest gains a field that decodeStoredRequest does not copy. */
type Uncopied = Exclude<keyof StoredRequest, 'function' | 'method' | 'path' | 'headers' | 'body' | 'acceptedAt' | 'source' | (typeof OPTIONAL_FIELDS)[number]>;
const everyFieldCopied: [Uncopied] extends [never] ? true : never = true;
void everyFieldCopied;

/** Decodes what {@link encodeStoredRequest} made. @throws Error when the bytes are not such a request. */
export function decodeStoredRequest(bytes: Buffer): StoredRequest {
  const { meta, body } = openEnvelope<Omit<StoredRequest, 'body'>>(bytes);
  // Field by field rather than rest and spread: this runs for every async attempt, and spreading
  // the parsed JSON into an object with the body made V8 build hidden classes every time (seen
  // in a drain's profile). Optional fields stay absent when they were.
  const request: StoredRequest = {
    function: meta.function,
    method: meta.method,
    path: meta.path,
    headers: meta.headers,
    body,
    acceptedAt: meta.acceptedAt,
    source: meta.source,
  };
  for (const field of OPTIONAL_FIELDS) if (meta[field] !== undefined) (request as unknown as Record<string, unknown>)[field] = meta[field];
  return request;
}

/**
 * Bytes of JSON metadata and a raw body in one buffer: a 4-byte big-endian length, that many
 * bytes of JSON (with the format version), then the body as is.
 */
export function encodeEnvelope(meta: object, body: Buffer): Buffer {
  return envelopeOf(JSON.stringify({ v: FORMAT, ...meta }), body);
}

/** The envelope of `json` (metadata with its `v`) and `body`. */
function envelopeOf(json: string, body: Buffer): Buffer {
  const jsonBytes = Buffer.byteLength(json);
  // The JSON is written straight into the envelope: no intermediate Buffer (on every accept).
  const out = Buffer.allocUnsafe(4 + jsonBytes + body.length);
  out.writeUInt32BE(jsonBytes, 0);
  out.write(json, 4);
  body.copy(out, 4 + jsonBytes);
  return out;
}

/** Splits what {@link encodeEnvelope} made. @throws Error when the bytes are not an envelope. */
export function decodeEnvelope<T>(bytes: Buffer): { meta: T; body: Buffer } {
  const {
    meta: { v: _format, ...meta },
    body,
  } = openEnvelope<T>(bytes);
  return { meta: meta as T, body };
}

/** The envelope's metadata (its format checked, `v` still in it) and body. @throws Error when the bytes are not an envelope. */
function openEnvelope<T>(bytes: Buffer): { meta: T & { v: unknown }; body: Buffer } {
  if (bytes.length < 4) throw new Error('envelope: too short');
  const jsonLength = bytes.readUInt32BE(0);
  if (4 + jsonLength > bytes.length) throw new Error('envelope: truncated');
  const meta = JSON.parse(bytes.subarray(4, 4 + jsonLength).toString('utf8')) as T & { v: unknown };
  if (meta.v !== FORMAT) throw new Error(`envelope: unknown format ${String(meta.v)}`);
  return { meta, body: bytes.subarray(4 + jsonLength) };
}
