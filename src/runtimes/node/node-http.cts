/**
 * The node:http handler form: `(req, res)` functions and the frameworks built on them (an Express
 * app, Koa's `app.callback()`, a Fastify instance, a server the app "listened" with). They get the
 * shim's own IncomingMessage and ServerResponse, so everything node:http offers works, streaming
 * included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { failInvocation } from './http-util.cjs';

/** Handles one request on node:http objects; may return a promise (async handlers). */
export type NodeHttpHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Runs one invocation. A handler that throws before answering gets the usual HANDLER_ERROR answer;
 * one that rejects after it started answering has the connection cut, so the platform reports a
 * truncated response rather than passing on a wrong one. Frameworks answer their own errors (an
 * Express error is its 500 page), as they would on any server.
 */
export function invokeNodeHttp(handle: NodeHttpHandler, req: IncomingMessage, res: ServerResponse, id: string): void {
  let result: unknown;
  try {
    result = handle(req, res);
  } catch (err) {
    return failInvocation(res, 'HANDLER_ERROR', err, id);
  }
  if (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
    (result as PromiseLike<unknown>).then(undefined, (err: unknown) => failInvocation(res, 'HANDLER_ERROR', err, id));
  }
}
