import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Writable } from 'node:stream';
import type { Backend, InstanceLease } from '../backends/types.js';
import type { Clock } from '../core/clock.js';
import { isNimbusError, NimbusError } from '../core/errors.js';
import { formatDuration } from '../core/spec.js';
import { sendError } from '../http/respond.js';
import { INVOCATION_ID_HEADER, SHIM_ERROR_HEADER } from '../runtimes/protocol.js';
import type { FunctionRecord } from '../store/types.js';
import type { FunctionCache } from './function-cache.js';
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
}

/** Marks an invocation whose client went away; not an error of the function. */
const CLIENT_GONE = Symbol('client gone');

/**
 * Invokes functions: one deadline per invocation (the function's timeout) covering the wait for
 * capacity and the handler, the request streamed to an instance and the response streamed back,
 * and platform failures mapped to catalogue errors. Written once; backends only provide instances.
 */
export class Gateway {
  constructor(private readonly deps: GatewayDeps) {}

  /** Handles `ANY /fn/<name>[/<sub/path>][?query]`. */
  async invoke(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const invocationId = randomUUID();
    res.setHeader(INVOCATION_ID_HEADER, invocationId);
    const record = this.deps.functions.peek(name) ?? (await this.deps.functions.get(name));
    if (!record) {
      return this.fail(req, res, new NimbusError('FUNCTION_NOT_FOUND', `No function named "${name}" is deployed. Deploy it with: nimbus deploy <path> --name ${name}`));
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.deps.maxBodyBytes) return this.fail(req, res, this.tooLarge());

    const started = this.deps.clock.now();
    const { timeoutMs } = record.spec;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new NimbusError('FUNCTION_TIMEOUT', `"${name}" did not answer within its timeout of ${formatDuration(timeoutMs)}; the instance was recycled.`)),
      timeoutMs,
    );
    const onClose = () => {
      if (!res.writableFinished) controller.abort(CLIENT_GONE);
    };
    res.once('close', onClose);
    try {
      let lease: InstanceLease;
      try {
        lease = await this.deps.backend.acquire(record, controller.signal);
      } catch (err) {
        return this.fail(req, res, controller.signal.aborted ? controller.signal.reason : err);
      }
      await this.forward(req, res, record, lease, { invocationId, deadline: started + timeoutMs, signal: controller.signal, started });
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    record: FunctionRecord,
    lease: InstanceLease,
    context: { invocationId: string; deadline: number; signal: AbortSignal; started: number },
  ): Promise<void> {
    const dispatchedAt = this.deps.clock.now();
    let shimError: { reason: string; chunks: Buffer[] } | undefined;
    try {
      await lease.dispatcher.stream(
        {
          path: pathAndQueryOf(req),
          method: req.method as 'GET',
          headers: upstreamHeaders(req, { invocationId: context.invocationId, deadline: context.deadline, functionName: record.spec.name }),
          body: this.requestBody(req),
          signal: context.signal,
        },
        ({ statusCode, headers }) => {
          const reason = headers[SHIM_ERROR_HEADER];
          if (reason !== undefined) {
            // The handler failed: collect the shim's explanation and answer with a platform error.
            const collected = { reason: String(reason), chunks: [] as Buffer[] };
            shimError = collected;
            return new Writable({ write: (chunk: Buffer, _enc, done) => (collected.chunks.push(chunk), done()) });
          }
          const out = downstreamHeaders(headers);
          out['x-nimbus-cold-start'] = lease.coldStart ? 'true' : 'false';
          out['server-timing'] = this.serverTiming(lease, this.deps.clock.now() - dispatchedAt, out['server-timing']);
          res.writeHead(statusCode, out);
          return res;
        },
      );
      lease.release('ok');
      if (shimError) this.fail(req, res, handlerError(shimError, record.spec.name));
    } catch (err) {
      const reason: unknown = context.signal.aborted ? context.signal.reason : err;
      if (reason === CLIENT_GONE) {
        lease.release('ok');
        return;
      }
      if (isNimbusError(reason) && reason.code === 'PAYLOAD_TOO_LARGE') {
        lease.release('ok');
        return this.fail(req, res, reason);
      }
      if (isNimbusError(reason) && reason.code === 'FUNCTION_TIMEOUT') {
        lease.release('timeout');
        return this.fail(req, res, reason);
      }
      lease.release('crashed');
      // Give the exit a moment to be observed so the message can say why the instance died.
      await new Promise((resolve) => setTimeout(resolve, 10));
      const why = lease.exitReason();
      this.fail(req, res, new NimbusError('FUNCTION_CRASHED', `The instance of "${record.spec.name}" ${why ?? 'closed the connection'} while serving this request.`, { cause: err }));
    }
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
    const ours = `queue;dur=${queue}, ${lease.coldStart ? `start;dur=${lease.startMs}, ` : ''}handler;dur=${handlerMs}`;
    return own === undefined ? ours : [ours, ...(Array.isArray(own) ? own : [own])];
  }

  /** Sends a platform error; an unread request body is not waited for. */
  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (!req.complete) res.setHeader('connection', 'close');
    sendError(res, err, this.deps.onInternalError);
  }
}

/** The sub-path and query of `/fn/<name>/<sub>?<query>`, as the function sees it. */
function pathAndQueryOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const afterName = url.indexOf('/', 4);
  const query = url.indexOf('?');
  if (afterName === -1 || (query !== -1 && query < afterName)) return query === -1 ? '/' : `/${url.slice(query)}`;
  return url.slice(afterName);
}

function handlerError(shimError: { reason: string; chunks: Buffer[] }, name: string): NimbusError {
  let detail = '';
  try {
    const body = JSON.parse(Buffer.concat(shimError.chunks).toString('utf8')) as { error?: { type?: string; message?: string } };
    detail = [body.error?.type, body.error?.message].filter(Boolean).join(': ');
  } catch {
    detail = shimError.reason;
  }
  const what = shimError.reason === 'INVALID_RESPONSE' ? 'returned an invalid response' : 'threw';
  return new NimbusError('FUNCTION_ERROR', `The handler of "${name}" ${what}${detail ? `: ${detail.slice(0, 500)}` : ''}. See: nimbus logs ${name}`);
}
