import type { IncomingMessage } from 'node:http';
import { NimbusError } from '../core/errors.js';

/**
 * Reads a whole request body of at most `limit` bytes; PAYLOAD_TOO_LARGE (naming `field`, when
 * given) past it, and the request is destroyed rather than read on. A client that goes away or
 * sends broken framing mid-body is a bad request, not a platform failure.
 *
 * Listeners rather than `for await`: this is on the path of every async accept, and the async
 * iterator costs several times more per request than the body itself (measured).
 */
export function readBody(req: IncomingMessage, limit: number, field?: string): Promise<Buffer> {
  const tooLarge = () =>
    new NimbusError('PAYLOAD_TOO_LARGE', `${field ? `${field}: ` : ''}the body is limited to ${limit} bytes.`, field ? { details: { field } } : {});
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: NimbusError | undefined) => {
      req.off('data', onData).off('end', onEnd).off('error', onBroken).off('close', onClose);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(undefined);
    const onBroken = (cause: unknown) => done(new NimbusError('BAD_REQUEST', 'The request body ended early or was malformed.', { cause }));
    const onClose = () => onBroken(new Error('the request closed before its body ended'));
    req.on('data', onData).on('end', onEnd).on('error', onBroken).on('close', onClose);
  });
}
