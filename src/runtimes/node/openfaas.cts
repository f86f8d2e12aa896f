/**
 * The OpenFaaS node template form (node18/node20 templates of openfaas/templates):
 * `module.exports = async (event, context) => context.status(201).headers({...}).succeed(value)`,
 * or a returned value, or `fail(err)`. The event and context behave as in the template, which runs
 * the handler behind Express with its JSON, raw and text body parsers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failInvocation, readBody } from './http-util.cjs';

/** The OpenFaaS handler: `(event, context, callback)`. */
export type OpenFaasHandler = (event: FunctionEvent, context: FunctionContext, callback: (err: unknown, value?: unknown) => void) => unknown;

/** The template's `event`. */
export interface FunctionEvent {
  /** Parsed JSON for `application/json`, a string for `text/*`, else a Buffer (empty body: `{}`, as Express leaves it). */
  body: unknown;
  headers: IncomingMessage['headers'];
  method: string;
  query: Record<string, string | string[]>;
  path: string;
}

/** The template's `context`: chainable status and headers, then succeed or fail. */
export class FunctionContext {
  statusCode = 200;
  headerValues: Record<string, string> = {};
  cbCalled = 0;

  constructor(private readonly cb: (err: unknown, value?: unknown) => void) {}

  status(statusCode?: number): this | number {
    if (!statusCode) return this.statusCode;
    this.statusCode = statusCode;
    return this;
  }

  headers(value?: Record<string, string>): this | Record<string, string> {
    if (!value) return this.headerValues;
    this.headerValues = value;
    return this;
  }

  succeed(value: unknown): void {
    this.cbCalled++;
    this.cb(undefined, value);
  }

  fail(value: unknown): void {
    if (this.statusCode === 200) this.statusCode = 500;
    this.cbCalled++;
    this.cb(value);
  }
}

function parseBody(raw: Buffer, contentType: string): unknown {
  if (raw.length === 0) return {};
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return JSON.parse(raw.toString('utf8'));
  if (type.startsWith('text/')) return raw.toString('utf8');
  return raw;
}

function queryOf(search: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of search) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** Sends what the template's callback sends: objects and arrays as JSON text, the rest as given. */
function send(res: ServerResponse, context: FunctionContext, err: unknown, value: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (err !== undefined && err !== null) {
    // As the template: the error's text with the context's status (500 unless set).
    const text = typeof (err as { toString?: unknown }).toString === 'function' ? String(err) : JSON.stringify(err);
    res.writeHead(context.statusCode === 200 ? 500 : context.statusCode, { 'content-type': 'text/html; charset=utf-8' });
    return void res.end(text);
  }
  for (const [name, header] of Object.entries(context.headerValues)) res.setHeader(name, header);
  res.statusCode = context.statusCode;
  let body: string | Buffer;
  if (Buffer.isBuffer(value)) {
    body = value;
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/octet-stream');
  } else {
    body = typeof value === 'object' && value !== null ? JSON.stringify(value) : value === undefined ? '' : String(value);
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/html; charset=utf-8');
  }
  res.end(body);
}

/** Runs one invocation of an OpenFaaS template handler; never rejects. */
export async function invokeOpenFaas(handler: OpenFaasHandler, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  let event: FunctionEvent;
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    const raw = await readBody(req);
    event = { body: parseBody(raw, String(req.headers['content-type'] ?? '')), headers: req.headers, method: req.method ?? 'GET', query: queryOf(url.searchParams), path: url.pathname };
  } catch (err) {
    // A malformed JSON body: the client's fault, answered as the template's body parser does.
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    return void res.end(`Bad request body: ${(err as Error).message}`);
  }
  const context: FunctionContext = new FunctionContext((err, value) => send(res, context, err, value));
  try {
    const result = await handler(event, context, (err, value) => send(res, context, err, value));
    if (!context.cbCalled) context.succeed(result);
  } catch (err) {
    // Thrown (not fail()ed) errors are FUNCTION_ERROR, as in every handler form; the template would
    // send their text to the caller, which fail() still does on purpose.
    failInvocation(res, 'HANDLER_ERROR', err, id);
  }
}
