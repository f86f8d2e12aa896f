/**
 * Web-standard handler form: node request -> WHATWG Request, handler's Response -> node response,
 * both streamed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { drained, failInternally, failInvocation, InvalidResponseError, sendJson } from './http-util.cjs';
import { lightRequest } from './light-request.cjs';
import { type DirectResponse, directResponse, realResponse } from './light-response.cjs';
import type { WebCall, WebContext } from './loader.cjs';

/** What an invocation needs besides the request. */
export interface WebInvocation {
  id: string;
  env: Record<string, string>;
  waitUntil(promise: unknown): void;
}

/** Connection-level headers belong to the shim <-> platform hop, not to the function's answer. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** Methods WHATWG Request refuses (checked here: the lightweight request builds its real one later). */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Accepts the global Response and look-alikes (e.g. a polyfill bundled with the user's code). */
function isResponse(value: unknown): value is Response {
  if (value instanceof Response) return true;
  const r = value as Partial<Response> | null;
  return typeof r === 'object' && r !== null && typeof r.status === 'number' && typeof r.headers?.forEach === 'function' && 'body' in r;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  return typeof value;
}

/** Workers' ctx.passThroughOnException: there is no origin to fall back to, so it does nothing. */
function passThroughOnException(): void {}

const PENDING = Symbol('pending');

/** The read's result if it is already available, else PENDING (checked after pending I/O callbacks). */
function readNow<T>(read: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([read, new Promise<typeof PENDING>((resolve) => setImmediate(resolve, PENDING))]);
}

async function write(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (!res.destroyed && !res.write(chunk)) await drained(res);
}

/**
 * Streams the body chunk by chunk. A body that is complete at once (the usual `new Response(text)`)
 * is sent with a Content-Length; a body still being produced gets its headers sent immediately, so
 * streaming responses (server-sent events) start at once.
 */
async function writeBody(res: ServerResponse, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  // A client that goes away stops the producer too (an endless event stream would otherwise leak).
  const stop = (): void => {
    if (!res.writableFinished) reader.cancel().catch(() => {});
  };
  res.once('close', stop);
  try {
    const firstRead = reader.read();
    let first = await readNow(firstRead);
    if (first === PENDING) {
      res.flushHeaders();
      first = await firstRead;
    }
    if (first.done) return void res.end();
    const secondRead = reader.read();
    const second = await readNow(secondRead);
    // Complete at once: end(data) lets node send a Content-Length instead of chunked encoding.
    if (second !== PENDING && second.done) return void res.end(first.value);
    await write(res, first.value);
    let next = second === PENDING ? await secondRead : second;
    while (!next.done) {
      if (res.destroyed) return void (await reader.cancel());
      await write(res, next.value);
      next = await reader.read();
    }
    res.end();
  } finally {
    res.off('close', stop);
    reader.releaseLock();
  }
}

/** The symbol under which Node's Response keeps its state (undici internals), if there is one. */
const STATE = Object.getOwnPropertySymbols(new Response(null)).find((symbol) => symbol.description === 'state');

/**
 * The bytes a Response was made from (`new Response('text')`, `Response.json(...)`), when they can
 * be sent without reading its stream; undefined otherwise (streams, blobs, other implementations).
 * Reading the stream costs ~20 µs a request, more than the rest of the handler round trip.
 */
function bodySource(response: Response): string | Uint8Array | undefined {
  if (STATE === undefined || response.bodyUsed) return undefined;
  const body = (response as unknown as Record<symbol, { body?: { source?: unknown; stream?: ReadableStream } | null } | undefined>)[STATE]?.body;
  const source = body?.source;
  if (body?.stream?.locked) return undefined;
  return typeof source === 'string' || source instanceof Uint8Array ? source : undefined;
}

/** Sends a lightweight response nobody read, straight from what the handler gave. */
function writeDirect(res: ServerResponse, direct: DirectResponse): void {
  res.statusCode = direct.status;
  const init = direct.headers;
  if (init !== undefined) {
    if (init instanceof Headers || Array.isArray(init)) copyHeaders(res, init instanceof Headers ? init : new Headers(init));
    else for (const key in init) if (!HOP_BY_HOP.has(key.toLowerCase())) res.setHeader(key, String((init as Record<string, string>)[key]));
  }
  if (typeof direct.body === 'string' && !res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain;charset=UTF-8');
  res.end(direct.body ?? undefined);
}

function copyHeaders(res: ServerResponse, headers: Headers): void {
  headers.forEach((value, key) => {
    if (key !== 'set-cookie' && !HOP_BY_HOP.has(key)) res.setHeader(key, value);
  });
  const cookies = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
}

/**
 * Sends the handler's Response. Synchronous for bodies that are complete at once (the usual case);
 * returns a promise only while a body stream is being read.
 */
function writeResponse(res: ServerResponse, value: Response): Promise<void> | void {
  const direct = directResponse(value);
  if (direct) return writeDirect(res, direct);
  const response = realResponse(value);
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  copyHeaders(res, response.headers);
  const source = bodySource(response);
  if (source !== undefined) res.end(source);
  else if (response.body) return writeBody(res, response.body);
  else res.end();
}

/** Checks what the handler gave and sends it; failures are reported on the response, never thrown. */
function respond(res: ServerResponse, result: unknown, id: string): Promise<void> | void {
  if (!isResponse(result)) {
    const err = new InvalidResponseError(`The handler returned ${describeValue(result)} instead of a Response.`);
    return failInvocation(res, 'INVALID_RESPONSE', err, id);
  }
  // Invalid header values from the handler, or its body stream erroring part-way.
  const failed = (err: unknown): void => failInvocation(res, res.headersSent ? 'HANDLER_ERROR' : 'INVALID_RESPONSE', err, id);
  try {
    return writeResponse(res, result)?.catch(failed);
  } catch (err) {
    return failed(err);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Waits for an async handler's answer, then sends it; never rejects. */
async function respondLater(pending: PromiseLike<unknown>, res: ServerResponse, id: string): Promise<void> {
  let result: unknown;
  try {
    result = await pending;
  } catch (err) {
    return failInvocation(res, 'HANDLER_ERROR', err, id);
  }
  try {
    // Awaiting undefined would cost a promise and a microtask: only a streaming body is awaited.
    const sending = respond(res, result, id);
    if (sending) await sending;
  } catch (err) {
    failInternally(res, err, id);
  }
}

/**
 * Runs one invocation of a Web-standard handler. Its promise, when it returns one, never rejects:
 * every failure is answered on `res`. A handler that answers synchronously is served without a
 * promise of the shim's own, an async one with a single await. Promises cost far more than their
 * allocation here: AsyncLocalStorage (log tagging) hooks every promise the process creates, and
 * dropping three a request took ~11% off the shim's instructions per request (callgrind).
 */
export function invokeWeb(call: WebCall, req: IncomingMessage, res: ServerResponse, inv: WebInvocation): Promise<void> | void {
  if (FORBIDDEN_METHODS.has(req.method ?? '')) {
    // The client's fault, not the handler's.
    return sendJson(res, 400, { error: { type: 'BadRequest', message: `The ${req.method} method is not supported by Web-standard handlers.` } });
  }
  const request = lightRequest(req, res);
  const ctx: WebContext = { waitUntil: inv.waitUntil, passThroughOnException, invocationId: inv.id };
  let result: unknown;
  try {
    result = call(request, inv.env, ctx);
  } catch (err) {
    return failInvocation(res, 'HANDLER_ERROR', err, inv.id);
  }
  // A Response is never a thenable, but a look-alike could be: treat it as a Response.
  if (isThenable(result) && !isResponse(result)) return respondLater(result, res, inv.id);
  // A promise here means a body stream is still being sent.
  return respond(res, result, inv.id)?.catch((err: unknown) => failInternally(res, err, inv.id));
}

/**
 * Exercises the WHATWG fetch classes once. Node loads them lazily, and the first use costs ~60 ms
 * (it loads undici): paid while a generic instance waits in the pool rather than by the first
 * invocation after a cold start.
 */
export async function warmUpWeb(): Promise<void> {
  const body = Readable.toWeb(Readable.from([Buffer.from('warm')])) as unknown as ReadableStream<Uint8Array>;
  const request = new Request('http://localhost/', { method: 'POST', body, duplex: 'half', headers: [['x-warm', '1']] } as RequestInit);
  await request.arrayBuffer();
  const response = new Response('warm', { headers: [['set-cookie', 'a=1']] });
  response.headers.getSetCookie();
  const reader = response.body!.getReader();
  while (!(await reader.read()).done);
}
