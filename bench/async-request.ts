/**
 * The request the async benchmarks send, in one place: the accept and sync runs (wrk or
 * autocannon), the enqueuer of the drain (bench/async-enqueue.ts) and the SQLite floor
 * (bench/async-floor.ts, which stores what the platform would store for it) all use it, so the
 * figures are about the same bytes.
 */
import { encodeStoredRequest } from '../src/async/stored-request.js';

/** The body of every async benchmark request: a small JSON event, as a webhook would send. */
export const EVENT_BODY = '{"event":"bench","id":1,"source":"nimbus-bench"}';

/** The header that makes an invocation async (RFC 7240). */
export const PREFER_ASYNC = { prefer: 'respond-async' } as const;

/** Headers of every request (the async ones add {@link PREFER_ASYNC}). */
export const REQUEST_HEADERS = { 'content-type': 'application/json' } as const;

/**
 * The queue payload the platform stores for one benchmark request to `fn` on `host`: the
 * envelope of src/async/stored-request.ts with the headers the HTTP edge keeps (the client's
 * minus `Prefer`, plus the forwarding ones, see src/edges/http-headers.ts).
 */
export function storedPayload(fn: string, host: string): Buffer {
  return encodeStoredRequest({
    function: fn,
    method: 'POST',
    path: '/',
    headers: {
      host,
      'content-type': REQUEST_HEADERS['content-type'],
      'content-length': String(Buffer.byteLength(EVENT_BODY)),
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-prefix': `/fn/${fn}`,
    },
    body: Buffer.from(EVENT_BODY),
    acceptedAt: Date.now(),
    source: 'async',
  });
}
