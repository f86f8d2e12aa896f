import type { IncomingMessage } from 'node:http';
import { NimbusError } from '../core/errors.js';

/** Largest JSON body the management API reads. */
const MAX_JSON_BYTES = 1024 * 1024;

/** Reads a JSON request body: 415 for other content types, INVALID_JSON for bad syntax, 413 when huge. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new NimbusError('UNSUPPORTED_MEDIA_TYPE', `Send JSON (content-type: application/json), not ${type}.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) throw new NimbusError('PAYLOAD_TOO_LARGE', `JSON bodies are limited to ${MAX_JSON_BYTES} bytes.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new NimbusError('INVALID_JSON', 'The request body is empty; send a JSON object.');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new NimbusError('INVALID_JSON', `The request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The URL the caller used to reach us, for links in responses. */
export function baseUrlOf(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  return host && /^[\w.:[\]-]+$/.test(host) ? `http://${host}` : fallback;
}
