/** Small HTTP helpers shared by the shim's request paths. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { SHIM_ERROR_HEADER, type ShimErrorCode } from './constants.cjs';
import { shimLog } from './log-capture.cjs';
import { mapStack } from './stack-map.cjs';

/** Sends a complete JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) });
  res.end(data);
}

/** Reads a whole request body. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  // Events rather than `for await`: the async iterator's first use costs ~1 ms, on the cold-start path.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** First value of a request header. */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Name, message and stack of anything thrown; the stack names the user's files (see stack-map). */
export function describeError(err: unknown): { type: string; message: string; stack: string } {
  if (err instanceof Error) {
    return { type: err.name, message: err.message, stack: typeof err.stack === 'string' ? mapStack(err.stack) : `${err.name}: ${err.message}` };
  }
  const message = typeof err === 'string' ? err : inspect(err, { depth: 2, breakLength: Infinity });
  return { type: typeof err === 'string' ? 'Error' : typeof err, message, stack: message };
}

/** Thrown when a handler returns something the shim cannot turn into a response. */
export class InvalidResponseError extends Error {
  override name = 'InvalidResponse';
}

/**
 * Reports a failed invocation: logs the stack tagged with the invocation id, then answers 500
 * with the shim error header, or, when the response has already started, destroys the connection
 * so the platform sees a truncated response rather than a wrong one.
 */
export function failInvocation(res: ServerResponse, code: ShimErrorCode, err: unknown, id: string): void {
  const { type, message, stack } = describeError(err);
  shimLog(`${code}: ${stack}`, id);
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The handler may have set headers on the way to failing (e.g. a rejected set-cookie).
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  sendJson(res, 500, { error: { type, message } }, { [SHIM_ERROR_HEADER]: code });
}

/**
 * Reports a failure of the shim itself (a bug, not the handler's): logged with the invocation id,
 * answered with a 500 when nothing was sent yet, else the connection is cut.
 */
export function failInternally(res: ServerResponse, err: unknown, id: string): void {
  const { message, stack } = describeError(err);
  shimLog(`internal error: ${stack}`, id);
  if (!res.headersSent) sendJson(res, 500, { error: { type: 'ShimError', message } });
  else res.destroy();
}

/** Resolves when `res` can take more data, or has closed. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve();
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
