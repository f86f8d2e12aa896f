import type { IncomingMessage } from 'node:http';
import { NimbusError } from '../core/errors.js';

/**
 * Reads a whole request body of at most `limit` bytes; PAYLOAD_TOO_LARGE (naming `field`, when
 * given) past it, and the request is paused rather than read on: the caller answers 413 with
 * `connection: close` (as the API, the invoke edge and the events ingress do for a request whose
 * body is not complete). A client that goes away or sends broken framing mid-body is a bad
 * request, not a platform failure.
 *
 * Listeners rather than `for await`: this is on the path of every async accept, and the async
 * iterator costs several times more per request than the body itself (measured).
 */
export async function readBody(req: IncomingMessage, limit: number, field?: string): Promise<Buffer> {
  const tooLarge = () =>
    new NimbusError('PAYLOAD_TOO_LARGE', `${field ? `${field}: ` : ''}the body is limited to ${limit} bytes.`, field ? { details: { field } } : {});
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) throw tooLarge();
  if (req.readableEnded) return Buffer.alloc(0);
  if (declared === 0) {
    // Nothing to read, but the stream still ends only once it flows.
    req.resume();
    return Buffer.alloc(0);
  }
  const whole = declared <= WHOLE_BODY_BYTES ? await wholeBodyIfArrived(req, declared) : undefined;
  if (whole) return whole;
  return readByListeners(req, limit, tooLarge);
}

/** Reads the body as it arrives, up to `limit` bytes. */
function readByListeners(req: IncomingMessage, limit: number, tooLarge: () => NimbusError): Promise<Buffer> {
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
        // Not destroyed: the caller still answers 413, and that answer closes the connection.
        req.pause();
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

/**
 * Declared bodies up to this size are taken whole when they have already arrived with their head:
 * no more than the request stream buffers anyway (its high-water mark).
 */
export const WHOLE_BODY_BYTES = 16 * 1024;

/**
 * The request's whole body when all of it is buffered in the request stream a microtask from now,
 * else undefined (it is still arriving). Called from a 'request' handler: the parser pushes a body
 * that came in the same read as the headers right after that event returns, before any microtask
 * runs. The declared length frames the body, so once that many bytes are buffered nothing more is
 * to come; the parser's end of message may still be on its way, and resuming lets it end the stream.
 */
export async function wholeBodyIfArrived(req: IncomingMessage, declaredBytes: number): Promise<Buffer | undefined> {
  await Promise.resolve();
  if (req.readableLength !== declaredBytes) return undefined;
  const body = req.read() as Buffer | null;
  req.resume();
  return body ?? undefined;
}
