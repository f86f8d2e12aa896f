import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Backend, InstanceLease } from '../backends/types.js';
import type { Clock } from '../core/clock.js';
import { isNimbusError, NimbusError } from '../core/errors.js';
import { INVOKE_KEY_HEADER, type InvokeAuth } from '../core/invoke-auth.js';
import { HEALTH_PATH, INVOCATION_ID_HEADER } from '../core/runtime-protocol.js';
import { formatDuration } from '../core/spec.js';
import { sendError } from '../http/respond.js';
import type { FunctionRecord } from '../store/types.js';
import { unwatchClient, watchClient } from './client-gone.js';
import { DeadlineTimers } from './deadlines.js';
import type { FunctionCache } from './function-cache.js';
import { type ForwardOutcome, ResponseForwarder } from './forwarder.js';
import { FUNCTION_TEXT_CODES, handlerError, withoutFunctionText } from './function-errors.js';
import { downstreamHeaders, upstreamHeaders } from './headers.js';

/** What the gateway needs. */
export interface GatewayDeps {
  functions: FunctionCache;
  backend: Backend;
  clock: Clock;
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
}

/** What the gateway needs to check invoke keys (src/auth/invoke-keys.ts). */
export interface InvokeAuthorizer {
  /** The auth a function has in effect (no I/O: the hot path of public functions). */
  modeOf(record: FunctionRecord): InvokeAuth;
  /** The error to answer, or undefined when the presented key opens the function. */
  verify(name: string, presented: string | string[] | undefined): Promise<NimbusError | undefined>;
}

/** Marks an invocation whose client went away; not an error of the function. */
const CLIENT_GONE = Symbol('client gone');
/** Sub-paths the runtime protocol uses between platform and instance; clients cannot reach them. */
const RESERVED_PREFIX = '/__nimbus/';
/** How long a failed invocation waits for its instance's exit to be observed, to report why it died. */
const EXIT_WAIT_MS = 500;

/**
 * Invokes functions: one deadline per invocation (the function's timeout) covering the wait for
 * capacity and the handler, the request streamed to an instance and the response streamed back,
 * and platform failures mapped to catalogue errors. Written once; backends only provide instances.
 */
export class Gateway {
  /** Every invocation's deadline, on one timer of the clock. */
  private readonly deadlines: DeadlineTimers;

  constructor(private readonly deps: GatewayDeps) {
    this.deadlines = new DeadlineTimers(deps.clock);
  }

  /**
   * Handles `ANY /fn/<name>[/<sub/path>][?query]`, or any request to the function's own host
   * (`<name>.<domain>`), whose whole path and query the function sees (`path`).
   */
  async invoke(req: IncomingMessage, res: ServerResponse, name: string, path: string = pathAndQueryOf(req)): Promise<void> {
    const invocationId = randomUUID();
    const record = this.deps.functions.peek(name) ?? (await this.deps.functions.get(name));
    if (!record) {
      return this.fail(req, res, invocationId, new NimbusError('FUNCTION_NOT_FOUND', `No function named "${name}" is deployed. Deploy it with: nimbus deploy <path> --name ${name}`));
    }
    const { invokeAuth } = this.deps;
    if (invokeAuth?.modeOf(record) === 'key') {
      // The key header is never forwarded: upstreamHeaders drops every x-nimbus-* client header.
      const denied = await invokeAuth.verify(name, req.headers[INVOKE_KEY_HEADER]);
      if (denied) return this.fail(req, res, invocationId, denied);
    }
    if (path.startsWith(RESERVED_PREFIX)) {
      return this.fail(req, res, invocationId, new NimbusError('NOT_FOUND', `Paths under ${RESERVED_PREFIX} are reserved for the platform.`));
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.deps.maxBodyBytes) return this.fail(req, res, invocationId, this.tooLarge());

    // One deadline for the whole invocation: waiting for capacity, starting, and the handler.
    const { timeoutMs } = record.spec;
    const deadline = this.deps.clock.now() + timeoutMs;
    let abortWait: AbortController | undefined;
    let forwarder: ResponseForwarder | undefined;
    let stopped: unknown;
    let leased = false;
    const stop = (reason: unknown) => {
      stopped ??= reason;
      abortWait?.abort(reason);
      forwarder?.abort(reason instanceof Error ? reason : new Error('client gone'));
    };
    // Still waiting for capacity when the deadline passes: no instance ran the request, so the
    // answer is the retryable FUNCTION_OVERLOADED (nothing to recycle), as for the wait cap.
    const deadlineTimer = this.deadlines.add(timeoutMs, () =>
      stop(abortWait && !leased ? this.waitedOutError(name, timeoutMs) : this.timeoutError(name, timeoutMs)),
    );
    const onClientGone = () => {
      if (!res.writableFinished) stop(CLIENT_GONE);
    };
    // Kept here: node sets req.socket to null once the exchange is over, before `finally` runs.
    const socket = req.socket;
    watchClient(socket, onClientGone);
    try {
      let lease = this.deps.backend.tryAcquire(record);
      if (!lease) {
        abortWait = new AbortController();
        try {
          lease = await this.deps.backend.acquire(record, abortWait.signal);
          leased = true;
        } catch (err) {
          return this.fail(req, res, invocationId, stopped ?? err);
        }
      }
      if (stopped !== undefined) {
        lease.release('ok');
        return this.fail(req, res, invocationId, stopped);
      }
      forwarder = this.forwarder(res, lease, invocationId);
      lease.dispatcher.dispatch(
        {
          path,
          method: req.method as 'GET',
          headers: upstreamHeaders(req, { invocationId, deadline, functionName: name }),
          body: this.requestBody(req),
        },
        forwarder,
      );
      await this.settle(req, res, invocationId, record, lease, await forwarder.done, () => stopped, deadline);
    } finally {
      deadlineTimer.cancel();
      unwatchClient(socket, onClientGone);
    }
  }

  /** A forwarder that adds the platform's response headers (cold start, phase timings). */
  private forwarder(res: ServerResponse, lease: InstanceLease, invocationId: string): ResponseForwarder {
    const dispatchedAt = this.deps.clock.monotonic();
    return new ResponseForwarder(res, (_status, headers) => {
      // All in the writeHead object: a header set earlier with setHeader makes node revalidate them all.
      const out = downstreamHeaders(headers);
      out[INVOCATION_ID_HEADER] = invocationId;
      out['x-nimbus-cold-start'] = lease.coldStart ? 'true' : 'false';
      out['server-timing'] = this.serverTiming(lease, this.deps.clock.monotonic() - dispatchedAt, out['server-timing']);
      return out;
    });
  }

  /** Releases the lease according to how the exchange ended, and reports platform errors. */
  private async settle(
    req: IncomingMessage,
    res: ServerResponse,
    invocationId: string,
    record: FunctionRecord,
    lease: InstanceLease,
    outcome: ForwardOutcome,
    stopped: () => unknown,
    deadline: number,
  ): Promise<void> {
    if (outcome.kind === 'ok') return lease.release('ok');
    if (outcome.kind === 'handler-error' && outcome.reason === 'OUT_OF_MEMORY') {
      // The runtime caught its own allocation failure: its state is suspect, so it is replaced.
      lease.release('crashed');
      return this.fail(req, res, invocationId, new NimbusError('FUNCTION_OUT_OF_MEMORY', `The handler of "${record.spec.name}" ran out of memory (limit ${record.spec.memoryMb} MB); the instance was replaced. Raise its memory (nimbus deploy --memory) or use less.`));
    }
    if (outcome.kind === 'handler-error') {
      lease.release('ok');
      return this.fail(req, res, invocationId, handlerError(outcome.reason, outcome.body, record.spec.name));
    }
    const reason = stopped() ?? outcome.error;
    if (reason === CLIENT_GONE) return lease.release((await this.answersWithin(lease, deadline)) ? 'ok' : 'timeout');
    if (isNimbusError(reason) && reason.code === 'PAYLOAD_TOO_LARGE') {
      lease.release('ok');
      return this.fail(req, res, invocationId, reason);
    }
    if (isNimbusError(reason) && reason.code === 'FUNCTION_TIMEOUT') {
      lease.release('timeout');
      return this.fail(req, res, invocationId, reason);
    }
    lease.release('crashed');
    // Let the exit be observed so the message can say why the instance died.
    await lease.exitedWithin(EXIT_WAIT_MS);
    const why = lease.exitReason();
    if (lease.outOfMemory()) {
      return this.fail(req, res, invocationId, new NimbusError('FUNCTION_OUT_OF_MEMORY', `The instance of "${record.spec.name}" ${why ?? 'ran out of memory'}; raise its memory (nimbus deploy --memory) or use less.`, { cause: outcome.error }));
    }
    return this.fail(req, res, invocationId, new NimbusError('FUNCTION_CRASHED', `The instance of "${record.spec.name}" ${why ?? 'closed the connection'} while serving this request.`, { cause: outcome.error }));
  }

  /**
   * After a client left mid-invocation (the function sees the abort): whether the instance still
   * answers its health check before the invocation's deadline. One that does not (stopped by
   * ptrace, spinning, wedged) is recycled at the deadline, as it would have been had the client
   * waited; until then its slot stays taken.
   */
  private async answersWithin(lease: InstanceLease, deadline: number): Promise<boolean> {
    const abort = new AbortController();
    const cancel = this.deps.clock.after(Math.max(0, deadline - this.deps.clock.now()), () => abort.abort());
    try {
      const res = await lease.dispatcher.request({ path: HEALTH_PATH, method: 'GET', signal: abort.signal });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    } finally {
      cancel();
    }
  }

  private waitedOutError(name: string, timeoutMs: number): NimbusError {
    return new NimbusError('FUNCTION_OVERLOADED', `"${name}" had no free capacity within its timeout of ${formatDuration(timeoutMs)}; retry shortly.`, {
      headers: { 'retry-after': '1' },
    });
  }

  private timeoutError(name: string, timeoutMs: number): NimbusError {
    return new NimbusError('FUNCTION_TIMEOUT', `"${name}" did not answer within its timeout of ${formatDuration(timeoutMs)}; the instance was recycled.`);
  }

  /**
   * The body to forward: nothing for bodiless requests, the request itself when its length is
   * declared (already checked), else a counting stream that stops past the limit.
   */
  private requestBody(req: IncomingMessage): Readable | null {
    if (req.headers['content-length'] !== undefined) return req.headers['content-length'] === '0' ? null : req;
    if (req.headers['transfer-encoding'] === undefined) return null;
    const limit = this.deps.maxBodyBytes;
    const tooLarge = () => this.tooLarge();
    return Readable.from(
      (async function* limited() {
      let total = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > limit) throw tooLarge();
        yield chunk;
      }
    })(),
      { objectMode: false },
    );
  }

  private tooLarge(): NimbusError {
    return new NimbusError('PAYLOAD_TOO_LARGE', `The request body is larger than the limit of ${this.deps.maxBodyBytes} bytes.`);
  }

  private serverTiming(lease: InstanceLease, handlerMs: number, own: string | string[] | undefined): string | string[] {
    const queue = Math.max(0, lease.waitMs - lease.startMs);
    const ours = `queue;dur=${tenths(queue)}, ${lease.coldStart ? `start;dur=${tenths(lease.startMs)}, ` : ''}handler;dur=${tenths(handlerMs)}`;
    return own === undefined ? ours : [ours, ...(Array.isArray(own) ? own : [own])];
  }

  /** Sends a platform error; an unread request body is not waited for. */
  private async fail(req: IncomingMessage, res: ServerResponse, invocationId: string, err: unknown): Promise<void> {
    if (err === CLIENT_GONE || res.destroyed) return; // nobody is listening for an answer
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

/**
 * Milliseconds to one decimal ("0", "0.3", "12.5"): the precision a Server-Timing reader can use.
 * Formatted from integers, which costs a fraction of printing a fractional number.
 */
function tenths(ms: number): string {
  const t = Math.round(ms * 10);
  const fraction = t % 10;
  return fraction === 0 ? String(t / 10) : `${(t - fraction) / 10}.${fraction}`;
}

/** The sub-path and query of `/fn/<name>/<sub>?<query>`, as the function sees it. */
function pathAndQueryOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const afterName = url.indexOf('/', 4);
  const query = url.indexOf('?');
  if (afterName === -1 || (query !== -1 && query < afterName)) return query === -1 ? '/' : `/${url.slice(query)}`;
  return url.slice(afterName);
}
