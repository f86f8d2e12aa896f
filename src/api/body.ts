import type { IncomingMessage } from 'node:http';
import { isNimbusError, NimbusError } from '../core/errors.js';

/** Largest JSON body the management API reads. */
const MAX_JSON_BYTES = 1024 * 1024;

/**
 * Reads a whole request body of at most `limit` bytes; PAYLOAD_TOO_LARGE (naming `field`, when
 * given) past it. A client that goes away or sends broken framing mid-body is a bad request, not
 * a platform failure.
 */
export async function readBody(req: IncomingMessage, limit: number, field?: string): Promise<Buffer> {
  const tooLarge = () =>
    new NimbusError('PAYLOAD_TOO_LARGE', `${field ? `${field}: ` : ''}the body is limited to ${limit} bytes.`, field ? { details: { field } } : {});
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    if (isNimbusError(err)) throw err;
    throw new NimbusError('BAD_REQUEST', 'The request body ended early or was malformed.', { cause: err });
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON request body: 415 for other content types, INVALID_JSON for bad syntax, 413 when huge. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !isJsonType(type)) {
    throw new NimbusError('UNSUPPORTED_MEDIA_TYPE', `Send JSON (content-type: application/json), not ${JSON.stringify(type.slice(0, 100))}.`, {
      details: { field: 'content-type' },
    });
  }
  const text = (await readBody(req, MAX_JSON_BYTES)).toString('utf8');
  if (text.trim() === '') throw new NimbusError('INVALID_JSON', 'The request body is empty; send a JSON object.', { details: { field: 'body' } });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new NimbusError('INVALID_JSON', `The request body is not valid JSON: ${(err as Error).message}`, { details: { field: 'body' } });
  }
}

/** True for `application/json` and `application/*+json` content types. */
export function isJsonType(type: string): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(type);
}

/** The URL the caller used to reach us, for links in responses. */
export function baseUrlOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  return host && /^[\w.:[\]-]+$/.test(host) ? `http://${host}` : fallback;
}
