import type { ServerResponse } from 'node:http';
import { ERROR_HEADER, toNimbusError } from '../core/errors.js';

/** The content type of every JSON answer. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * Sends a JSON body with a status.
 *
 * The head goes to `writeHead` as one flat list of names and values: node writes such a list
 * straight out, while an object costs a `for…in` over it, and spreading `headers` into a new
 * object with two more fields made V8 build fresh hidden classes for every answer (measured on
 * the async accept path, where this runs for every 202).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  const fields: string[] = [];
  if (headers) for (const name in headers) fields.push(name, headers[name]!);
  fields.push('content-type', JSON_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(text)));
  res.writeHead(status, fields);
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
