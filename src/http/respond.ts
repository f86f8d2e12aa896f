import type { ServerResponse } from 'node:http';
import { ERROR_HEADER, toNimbusError } from '../core/errors.js';

/** Sends a JSON body with a status. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Sends a platform error: catalogue status, `x-nimbus-error` header and `{"error":{code,message}}`.
 * Unknown errors become INTERNAL (their details go to `onInternal`, never to the client).
 * When the response has already started, the connection is cut instead: a half-sent body must not
 * look complete.
 */
export function sendError(res: ServerResponse, err: unknown, onInternal?: (err: unknown) => void): void {
  const error = toNimbusError(err);
  if (error.code === 'INTERNAL') onInternal?.(error.cause ?? err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, error.toJSON(), { ...error.headers, [ERROR_HEADER]: error.code });
}
