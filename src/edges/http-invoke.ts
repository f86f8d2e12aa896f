import { v7 as timeOrderedUuid } from 'uuid';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { isNimbusError, NimbusError } from '../core/errors.js';
import type { InvocationRequest } from '../core/invocation.js';
import { INVOKE_KEY_HEADER, type InvokeAuth } from '../core/invoke-auth.js';
import { FUNCTION_TEXT_CODES, withoutFunctionText } from '../gateway/function-errors.js';
import type { Invoker } from '../gateway/invoker.js';
import { readBody, WHOLE_BODY_BYTES, wholeBodyIfArrived } from '../http/read-body.js';
import { sendError, sendJson } from '../http/respond.js';
import { type AsyncAccepted, PREFER_HEADER } from '../api/wire.js';
import type { AsyncAcceptor } from '../async/acceptor.js';
import { asyncRequestOptions, prefersAsync } from './async-request.js';
import { INVOCATION_ID_HEADER } from '../core/runtime-protocol.js';
import type { FunctionRecord } from '../store/types.js';
import { DISABLED_TRACING, type Tracing, traceContextOf } from '../telemetry/tracing.js';
import { type Clock, systemClock } from '../core/clock.js';
import { callerConnection } from './client-gone.js';
import { forwardedHeaders } from './http-headers.js';

/** What the HTTP edge needs. */
export interface HttpInvokeDeps {
  invoker: Invoker;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Reports unexpected platform errors. */
  onInternalError(err: unknown): void;
  /** Checks invoke keys of functions with auth `key`; absent, every function is public. */
  invokeAuth?: InvokeAuthorizer;
  /**
   * Whether a caller may see the function's own error text (exception messages, load failures);
   * absent, nobody does. Others get the code, a generic message and the invocation id.
   */
  revealFunctionErrors?(req: IncomingMessage): Promise<boolean>;
  /** Spans of accepted async invocations. @default DISABLED_TRACING */
  tracing?: Tracing;
  /** Times the accept span. @default the system clock */
  clock?: Clock;
  /** Takes async invocations (`Prefer: respond-async`, `/async/<name>`); absent, they are refused. */
  async?: AsyncIntake;
}

/** What the edge needs to queue async invocations. */
export interface AsyncIntake {
  acceptor: AsyncAcceptor;
  /** Whether callbacks may go to this URL (`nimbus up --callback-hosts`). */
  callbackAllowed(url: URL): boolean;
}

/** What the edge needs to check invoke keys (src/auth/invoke-keys.ts). */
export interface InvokeAuthorizer {
  /** The auth a function has in effect (no I/O: the hot path of public functions). */
  modeOf(record: FunctionRecord): InvokeAuth;
  /** The error to answer, or undefined when the presented key opens the function. */
  verify(name: string, presented: string | string[] | undefined): Promise<NimbusError | undefined>;
}

/** Sub-paths the runtime protocol uses between platform and instance; clients cannot reach them. */
const RESERVED_PREFIX = '/__nimbus/';

/**
 * The HTTP edge of invocations: `ANY /fn/<name>[/<sub/path>][?query]` and requests to a function's
 * own host. It checks what only HTTP has (invoke keys, body size, reserved paths), turns the
 * request into an invocation request (the body streams through), hands the client's response
 * to the invoker as the sink, and answers platform errors as JSON with `x-nimbus-error`.
 */
export class HttpInvokeEdge {
  private readonly tracing: Tracing;
  private readonly clock: Clock;

  constructor(private readonly deps: HttpInvokeDeps) {
    this.tracing = deps.tracing ?? DISABLED_TRACING;
    this.clock = deps.clock ?? systemClock;
  }

  /**
   * Invokes `name` with this request; `path` is the path and query the function sees. With
   * `forceAsync` (the `/async/<name>` route), or when the request prefers it, the invocation is
   * queued and answered 202 instead.
   */
  async handle(req: IncomingMessage, res: ServerResponse, name: string, path: string = pathAndQueryOf(req, '/fn/'), forceAsync = false): Promise<void> {
    const { invoker, invokeAuth } = this.deps;
    let record: FunctionRecord;
    try {
      record = invoker.peek(name) ?? (await invoker.lookup(name));
    } catch (err) {
      return this.fail(req, res, undefined, err);
    }
    if (invokeAuth?.modeOf(record) === 'key') {
      // The key header is never forwarded: forwardedHeaders drops every x-nimbus-* client header.
      const denied = await invokeAuth.verify(name, req.headers[INVOKE_KEY_HEADER]);
      if (denied) return this.fail(req, res, undefined, denied);
    }
    if (path.startsWith(RESERVED_PREFIX)) {
      return this.fail(req, res, undefined, new NimbusError('NOT_FOUND', `Paths under ${RESERVED_PREFIX} are reserved for the platform.`));
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.deps.maxBodyBytes) return this.fail(req, res, undefined, this.tooLarge());
    try {
      if (forceAsync || prefersAsync(req.headers)) return await this.accept(req, res, name, path);
    } catch (err) {
      return this.fail(req, res, undefined, err);
    }

    // Time-ordered (UUIDv7), like async ids: every invocation's history record lands at the end of
    // history.db's key index instead of at a random place (half the cost of a record's insert).
    const invocationId = timeOrderedUuid();
    const request: InvocationRequest = {
      method: req.method ?? 'GET',
      path,
      headers: forwardedHeaders(req, name),
      body: null,
    };
    request.body = this.requestBody(req, declared, request);
    if (request.body === req && request.bodyBytes! <= WHOLE_BODY_BYTES) {
      // Whole, the instance gets it in the same write as the head; streamed, the head and the
      // body take two writes and two wake-ups (and cost the gateway some 50 µs more, measured).
      request.body = (await wholeBodyIfArrived(req, request.bodyBytes!)) ?? req;
    }
    const { error } = await invoker.invoke(record, request, res, { source: 'http', invocationId, caller: callerConnection(req.socket) });
    if (error) await this.fail(req, res, invocationId, error);
  }

  /**
   * Queues the invocation and answers 202 with its id, once it is stored: the whole request is
   * read first (up to the body limit), since the caller does not wait for the function.
   */
  private async accept(req: IncomingMessage, res: ServerResponse, name: string, path: string): Promise<void> {
    const intake = this.deps.async;
    if (!intake) throw new NimbusError('INVALID_PREFER', 'Async invocations are not available on this platform; call without Prefer: respond-async.');
    const { idempotencyKey, callbackUrl } = asyncRequestOptions(req.headers, req.rawHeaders, intake.callbackAllowed);
    const body = await readBody(req, this.deps.maxBodyBytes);
    // The preference was the platform's to act on, not the function's.
    const headers = forwardedHeaders(req, name, PREFER_HEADER);
    const method = req.method ?? 'GET';
    const { tracing, clock } = this;
    const trace = tracing.enabled ? tracing.beginAccept(name, method, headers, clock.now()) : undefined;
    // Kept with the request, so every attempt continues this trace (even after a restart).
    const traceContext = trace?.context ?? traceContextOf(headers);
    let accepted;
    try {
      accepted = await intake.acceptor.accept({ function: name, method, path, headers, body, callbackUrl, idempotencyKey, source: 'async', traceContext });
    } catch (err) {
      trace?.end(clock.now(), undefined, err);
      throw err;
    }
    trace?.end(clock.now(), accepted.id);
    const answer: AsyncAccepted = { id: accepted.id, status: accepted.status };
    sendJson(res, 202, answer, {
      location: `/api/v1/invocations/${accepted.id}`,
      [INVOCATION_ID_HEADER]: accepted.id,
      'preference-applied': 'respond-async',
    });
  }

  /**
   * The body to forward: nothing for bodiless requests, the request itself when its length is
   * declared (already checked), else a stream that counts into `request.bodyBytes` and stops
   * past the limit.
   */
  private requestBody(req: IncomingMessage, declared: string | undefined, request: InvocationRequest): Readable | null {
    if (declared !== undefined) {
      request.bodyBytes = Number(declared);
      return declared === '0' ? null : req;
    }
    if (req.headers['transfer-encoding'] === undefined) return null;
    const limit = this.deps.maxBodyBytes;
    const tooLarge = () => this.tooLarge();
    request.bodyBytes = 0;
    return Readable.from(
      (async function* limited() {
        for await (const chunk of req as AsyncIterable<Buffer>) {
          request.bodyBytes! += chunk.length;
          if (request.bodyBytes! > limit) throw tooLarge();
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
  }

  private tooLarge(): NimbusError {
    return new NimbusError('PAYLOAD_TOO_LARGE', `The request body is larger than the limit of ${this.deps.maxBodyBytes} bytes.`);
  }

  /**
   * Sends a platform error; an unread request body is not waited for. Errors before an invocation
   * was made (`id` undefined) get an id of their own, to find them in the logs; an async
   * request's id exists only once it is stored, so it is made only when needed.
   */
  private async fail(req: IncomingMessage, res: ServerResponse, id: string | undefined, err: unknown): Promise<void> {
    if (res.destroyed) return; // nobody is listening for an answer
    const invocationId = id ?? timeOrderedUuid();
    if (isNimbusError(err) && FUNCTION_TEXT_CODES.has(err.code)) err = await this.forCaller(req, err, invocationId);
    if (!res.headersSent) res.setHeader(INVOCATION_ID_HEADER, invocationId);
    if (!req.complete) res.setHeader('connection', 'close');
    sendError(res, err, this.deps.onInternalError);
  }

  /**
   * The error as this caller may see it: in full for callers the policy trusts, else the code and
   * a generic message pointing at the logs (the shims log the full reason with the invocation id).
   */
  private async forCaller(req: IncomingMessage, err: NimbusError, invocationId: string): Promise<NimbusError> {
    const reveal = this.deps.revealFunctionErrors;
    const trusted = reveal ? await reveal(req).catch((lookup: unknown) => (this.deps.onInternalError(lookup), false)) : false;
    if (trusted) return err;
    return withoutFunctionText(err, req.url ?? '', invocationId);
  }
}

/** The sub-path and query of `<prefix><name>/<sub>?<query>` (prefix `/fn/` or `/async/`), as the function sees it. */
export function pathAndQueryOf(req: IncomingMessage, prefix: string): string {
  const url = req.url ?? '/';
  const afterName = url.indexOf('/', prefix.length);
  const query = url.indexOf('?');
  if (afterName === -1 || (query !== -1 && query < afterName)) return query === -1 ? '/' : `/${url.slice(query)}`;
  return url.slice(afterName);
}
