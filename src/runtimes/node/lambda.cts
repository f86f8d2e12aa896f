/**
 * Lambda-style handler form: `handler(event, context)` (async) or `handler(event, context, callback)`,
 * with API Gateway HTTP API v2.0 event and response mapping.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InitRequest } from './constants.cjs';
import { failInvocation, InvalidResponseError, readBody } from './http-util.cjs';
import { buildContext, buildEvent } from './lambda-event.cjs';
import type { LambdaHandler } from './loader.cjs';

/** A response ready to write: status, header pairs (repeatable), body. */
export interface PlainResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function json(value: unknown): PlainResponse {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new InvalidResponseError(`The handler's result cannot be serialised as JSON: ${(err as Error).message}`);
  }
  // JSON.stringify returns undefined for functions and symbols.
  if (text === undefined) throw new InvalidResponseError(`The handler returned a ${typeof value}, which has no JSON form.`);
  return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(text) };
}

/**
 * Maps a handler result to a response, as API Gateway does for payload v2.0, with these choices:
 * - `undefined`/`null` -> 204 No Content: the handler completed and said nothing (API Gateway
 *   would answer 200 with an empty body; 204 says the same thing honestly).
 * - a string -> 200 text/plain (API Gateway would call it JSON; plain text is what people mean).
 * - an object with `statusCode` -> that status, `headers`, `multiValueHeaders`, `cookies` (one
 *   set-cookie each) and `body` (base64-decoded when `isBase64Encoded`; a non-string body is sent
 *   as JSON rather than refused).
 * - anything else (object, array, number, boolean) -> 200 application/json.
 */
export function mapLambdaResult(result: unknown): PlainResponse {
  if (result === undefined || result === null) return { status: 204, headers: [], body: Buffer.alloc(0) };
  if (typeof result === 'string') return { status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(result) };
  if (!isRecord(result) || !('statusCode' in result)) return json(result);

  const status = Number(result.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new InvalidResponseError(`statusCode must be an integer from 100 to 599, got ${JSON.stringify(result.statusCode)}.`);
  }
  const headers: Array<[string, string]> = [];
  if (isRecord(result.headers)) {
    for (const [name, value] of Object.entries(result.headers)) if (value !== undefined && value !== null) headers.push([name, String(value)]);
  }
  if (isRecord(result.multiValueHeaders)) {
    for (const [name, values] of Object.entries(result.multiValueHeaders)) {
      if (Array.isArray(values)) for (const value of values) headers.push([name, String(value)]);
    }
  }
  if (Array.isArray(result.cookies)) for (const cookie of result.cookies) headers.push(['set-cookie', String(cookie)]);

  let body: Buffer;
  if (result.body === undefined || result.body === null) body = Buffer.alloc(0);
  else if (typeof result.body === 'string') body = Buffer.from(result.body, result.isBase64Encoded === true ? 'base64' : 'utf8');
  else body = json(result.body).body;
  return { status, headers, body };
}

/** Calls the handler; settles on its promise, its callback or the legacy context methods, whichever comes first. */
function callHandler(fn: LambdaHandler, event: unknown, init: InitRequest, req: IncomingMessage, id: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const settle = (err: unknown, result?: unknown): void => (err !== null && err !== undefined ? reject(err) : resolve(result));
    const context = buildContext(init, req, id, settle);
    if (fn.length >= 3) {
      const result = fn(event, context, (err, value) => settle(err ?? null, value));
      // An async handler declared with a callback parameter: its promise counts too.
      if (result !== undefined && typeof (result as Promise<unknown>)?.then === 'function') (result as Promise<unknown>).then(resolve, reject);
    } else {
      Promise.resolve(fn(event, context)).then(resolve, reject);
    }
  });
}

function writePlain(res: ServerResponse, response: PlainResponse): void {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of response.headers) {
    const key = name.toLowerCase();
    const list = grouped.get(key);
    if (list) list.push(value);
    else grouped.set(key, [value]);
  }
  for (const [name, values] of grouped) {
    if (name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue;
    // Multiple values become multiple header lines (required for set-cookie).
    res.setHeader(name, values.length === 1 ? values[0]! : values);
  }
  res.statusCode = response.status;
  // 204 and 304 carry no body and, per RFC 9110, no Content-Length either.
  if (response.status === 204 || response.status === 304) return void res.end();
  res.setHeader('content-length', String(response.body.length));
  res.end(response.body);
}

/** Runs one invocation of a Lambda-style handler. */
export async function invokeLambda(fn: LambdaHandler, init: InitRequest, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch {
    return; // the platform closed the connection mid-body: nobody is waiting for an answer
  }
  const event = buildEvent(req, body, id, Date.now());
  let result: unknown;
  try {
    result = await callHandler(fn, event, init, req, id);
  } catch (err) {
    return failInvocation(res, 'HANDLER_ERROR', err, id);
  }
  try {
    writePlain(res, mapLambdaResult(result));
  } catch (err) {
    failInvocation(res, 'INVALID_RESPONSE', err, id);
  }
}
