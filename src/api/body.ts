import type { IncomingMessage } from 'node:http';
import { NimbusError } from '../core/errors.js';
import { readBody } from '../http/read-body.js';

export { readBody };

/** Largest JSON body the management API reads. */
export const MAX_JSON_BYTES = 1024 * 1024;

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
