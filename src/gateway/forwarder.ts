import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { SHIM_ERROR_HEADER } from '../core/runtime-protocol.js';

/** How a forwarded request ended. */
export type ForwardOutcome =
  | { kind: 'ok' }
  /** The shim reported a handler failure instead of a response. */
  | { kind: 'handler-error'; reason: string; body: Buffer }
  | { kind: 'failed'; error: Error };

/**
 * Where a function's response goes. A node:http `ServerResponse` is one as it is (the HTTP edge
 * passes its own, so the warm path adds no wrapper); a queue worker passes a buffering one.
 */
export interface ResponseSink {
  writeHead(statusCode: number, headers: Record<string, string | string[]>): unknown;
  /** A body chunk; false asks for a pause until 'drain'. */
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): unknown;
  /** True once the whole response was handed over. */
  readonly writableFinished: boolean;
}

/**
 * Streams one instance response into a response sink, at the lowest level undici offers
 * (a dispatch handler): no promise or stream wrapper per request, and an abort that needs no
 * AbortSignal. The caller shapes the response headers in `head`.
 */
export class ResponseForwarder implements Dispatcher.DispatchHandler {
  /** Resolves when the exchange is over, however it ended. */
  readonly done: Promise<ForwardOutcome>;
  private finish!: (outcome: ForwardOutcome) => void;
  private controller: Dispatcher.DispatchController | undefined;
  private abortReason: Error | undefined;
  private shimError: { reason: string; chunks: Buffer[] } | undefined;
  /** The function's status, once its response started (0 before, and for shim-reported errors). */
  status = 0;
  /** Response body bytes handed to the sink. */
  bytesOut = 0;
  /** The CPU time the runtime reported in its response head (microseconds), when it did. */
  cpuMicros: number | undefined = undefined;

  constructor(
    private readonly res: ResponseSink,
    private readonly head: (statusCode: number, headers: IncomingHttpHeaders) => Record<string, string | string[]>,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Stops the exchange; `done` then ends with `reason`. */
  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    if (this.controller) this.controller.abort(reason);
    else this.finish({ kind: 'failed', error: reason });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    const reason = headers[SHIM_ERROR_HEADER];
    if (reason !== undefined) {
      this.shimError = { reason: String(reason), chunks: [] };
      return;
    }
    this.status = statusCode;
    this.res.writeHead(statusCode, this.head(statusCode, headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.shimError) {
      this.shimError.chunks.push(chunk);
      return;
    }
    this.bytesOut += chunk.length;
    // Backpressure: a slow client pauses the instance instead of filling our memory.
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.shimError) {
      this.finish({ kind: 'handler-error', reason: this.shimError.reason, body: Buffer.concat(this.shimError.chunks) });
      return;
    }
    this.res.end();
    this.finish({ kind: 'ok' });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.finish({ kind: 'failed', error: this.abortReason ?? error });
  }
}
