import type { InvocationEnded, InvocationRequest, InvokeOptions, TraceContext } from '../core/invocation.js';
import type { FunctionRecord } from '../store/types.js';

/**
 * Traces of invocations, as the invoker and the HTTP edge see them. Callers check `enabled`
 * first and call nothing else when it is false: with tracing off an invocation pays one boolean
 * check, and no span, context or header work happens (see {@link DISABLED_TRACING}).
 */
export interface Tracing {
  readonly enabled: boolean;
  /**
   * Starts the span of one invocation at `startedAt` (epoch ms, from the invoker's clock). It
   * continues `options.traceContext` when given, else the request's own `traceparent`.
   */
  begin(record: FunctionRecord, request: InvocationRequest, options: InvokeOptions, startedAt: number): InvocationTrace;
  /**
   * Starts the span of accepting an async invocation (a producer span, continuing the request's
   * `traceparent`); its context is kept with the stored request so each attempt continues it.
   */
  beginAccept(functionName: string, method: string, headers: Record<string, string | string[]>, acceptedAt: number): AcceptTrace;
  /** Exports what is still pending and stops; later spans are dropped. */
  shutdown(): Promise<void>;
}

/** The spans of one invocation while it runs. Never throws. */
export interface InvocationTrace {
  /**
   * The invocation got its instance after `waitMs` (of which `startMs` started a new instance)
   * and is forwarded at `at` (epoch ms): records the admission wait and cold-start spans, starts
   * the instance-call span, and sets the function's `traceparent` (and `tracestate`) in `headers`
   * to the instance call's context.
   */
  dispatching(lease: { coldStart: boolean; waitMs: number; startMs: number }, headers: Record<string, string | string[]>, at: number): void;
  /** Ends every open span of the invocation with what the invocation-ended event says. */
  end(ended: InvocationEnded): void;
}

/** The span of accepting an async invocation. Never throws. */
export interface AcceptTrace {
  /** The context an attempt continues. */
  readonly context: TraceContext;
  /** Ends the span: accepted as `invocationId`, or refused with `error`. */
  end(at: number, invocationId: string | undefined, error?: unknown): void;
}

/** Tracing that is off: the one instance used when no OTLP endpoint is set. Nothing may call begin. */
export const DISABLED_TRACING: Tracing = Object.freeze({
  enabled: false,
  begin(): InvocationTrace {
    throw new Error('tracing is off: check Tracing.enabled before begin');
  },
  beginAccept(): AcceptTrace {
    throw new Error('tracing is off: check Tracing.enabled before beginAccept');
  },
  shutdown: () => Promise.resolve(),
});

/** The caller's W3C trace context from request headers, or undefined when it sent none. */
export function traceContextOf(headers: Record<string, string | string[] | undefined>): TraceContext | undefined {
  const traceparent = headers['traceparent'];
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = headers['tracestate'];
  const state = Array.isArray(tracestate) ? tracestate.join(',') : tracestate;
  return state === undefined ? { traceparent } : { traceparent, tracestate: state };
}
