import type { Readable } from 'node:stream';
import type { ErrorCode } from './errors.js';

/** Where an invocation came from. */
export type InvocationSource = 'http' | 'async' | 'trigger';

/**
 * A request to a function, independent of how it arrived: what the function's HTTP handler sees.
 * Edges (the HTTP `/fn` route, later queue workers and trigger sources) build it.
 */
export interface InvocationRequest {
  method: string;
  /** Path and query as the function sees them, e.g. `/orders/7?full=1`. */
  path: string;
  /**
   * Headers for the function, already without hop-by-hop and client-set `x-nimbus-*` ones. The
   * invoker sends the platform's headers (invocation id, deadline, attempt) beside them and never
   * changes this object, so a caller may hand over headers it keeps (a stored request's).
   */
  headers: Record<string, string | string[]>;
  /** The body: a stream (forwarded as it arrives), whole bytes, or none. */
  body: Readable | Buffer | null;
  /** Body size when known up front (`content-length`, a stored body); else counted as it streams. */
  bodyBytes?: number;
}

/** How an invocation is to run. */
export interface InvokeOptions {
  source: InvocationSource;
  /** Unique per invocation (a retry of an async invocation keeps its id). */
  invocationId: string;
  /** 1 for the first try; later attempts of a retried invocation count up. */
  attempt?: number;
  /** The deadline, from now: the function's timeout unless the caller has less time left. */
  timeoutMs?: number;
  /** The caller, when it can go away mid-invocation (an HTTP client); the function then sees an abort. */
  caller?: CallerConnection;
  /**
   * The W3C trace context the invocation continues when it is not the request's own `traceparent`:
   * an async attempt continues the trace of the request that was accepted (kept with it).
   */
  traceContext?: TraceContext;
}

/** A W3C trace context (https://www.w3.org/TR/trace-context/), as its two headers carry it. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/** Tells an invocation that its caller went away (an HTTP client's connection closed). */
export interface CallerConnection {
  /** Calls `gone` once the caller is gone (at once when it is already), until `offGone`. */
  onGone(gone: () => void): void;
  offGone(gone: () => void): void;
}

/**
 * Emitted once per invocation of a deployed function when it ends, however it ended; metrics,
 * invocation records and the metering ledger subscribe to it.
 */
export interface InvocationEnded {
  invocationId: string;
  function: string;
  version: number;
  source: InvocationSource;
  attempt: number;
  /** Epoch milliseconds when the invoker took the invocation. */
  startedAt: number;
  /**
   * `response`: the function answered (any status, `status` set); `error`: the platform answered
   * with `error` instead; `abandoned`: the caller went away first (no one received an answer).
   */
  outcome: 'response' | 'error' | 'abandoned';
  /** The function's HTTP status, when it answered. */
  status?: number;
  error?: { code: ErrorCode; retryable: boolean };
  /** The invocation waited for a new instance to start. */
  coldStart: boolean;
  /** The instance that served it, when one did. */
  instanceId?: string;
  /** Milliseconds, on the monotonic clock. */
  timings: InvocationTimings;
  /** Request body bytes sent to the instance, and response body bytes sent back. */
  bytesIn: number;
  bytesOut: number;
  /** The request's method and path (with query), as the function saw them. */
  method: string;
  path: string;
  /** The memory size of the function version that ran (MB): what GB-seconds are billed on. */
  memoryMb: number;
  /**
   * CPU time (ms) the instance's runtime reported for this invocation (its process or thread,
   * from the request arriving to the response head), when it reported one (docs/metering.md).
   */
  cpuMs?: number;
}

/** Where an invocation's time went (the `Server-Timing` header shows the same figures). */
export interface InvocationTimings {
  /** Waiting for capacity, not counting an instance start. */
  queueMs: number;
  /** Starting an instance and loading the handler (cold starts only, else 0). */
  startMs: number;
  /** From forwarding the request to the end of the response. */
  handlerMs: number;
  /** From the invoker taking the invocation to its end. */
  totalMs: number;
}
