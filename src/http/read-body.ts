import type { IncomingMessage } from 'node:http';
import { isNimbusError, NimbusError } from '../core/errors.js';

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
