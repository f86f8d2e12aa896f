import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { Clock } from '../core/clock.js';
import { ERRORS, isNimbusError } from '../core/errors.js';
import type { InvocationEnded, InvocationRequest, InvokeOptions, TraceContext } from '../core/invocation.js';
import type { FunctionRecord } from '../store/types.js';
import { FAAS, faasTrigger, NIMBUS } from './trace-attributes.js';
import type { AcceptTrace, InvocationTrace, Tracing } from './tracing.js';

/** Where and how spans are exported. */
export interface OtelTracingOptions {
  /** Full OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`. */
  endpoint: string;
  /** `service.name` of the resource. */
  serviceName: string;
  /** `service.version`, when known. */
  serviceVersion?: string;
  /** How often the batch processor exports (ms). @default 5000, OTEL_BSP_SCHEDULE_DELAY */
  exportDelayMs?: number;
  /** Times the bound on the last export at shutdown. */
  clock: Clock;
}

/**
 * Longest `shutdown` waits for the last spans to be exported: an unreachable collector makes the
 * exporter retry for its whole timeout (about 10 s), which would hold up stopping the platform.
 */
export const SHUTDOWN_EXPORT_MS = 2000;

const propagator = new W3CTraceContextPropagator();

/**
 * Tracing with the OpenTelemetry SDK: spans batched (BatchSpanProcessor) and sent as OTLP/HTTP
 * JSON. No global provider or context manager is registered: contexts are passed explicitly,
 * so nothing else in the process (user code never runs here) is traced by accident.
 */
export class OtelTracing implements Tracing {
  readonly enabled = true;
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly clock: Clock;

  constructor(options: OtelTracingOptions) {
    this.clock = options.clock;
    const exporter = new OTLPTraceExporter({ url: options.endpoint });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
      }),
      spanProcessors: [new BatchSpanProcessor(exporter, options.exportDelayMs === undefined ? {} : { scheduledDelayMillis: options.exportDelayMs })],
    });
    this.tracer = this.provider.getTracer('nimbus');
  }

  begin(record: FunctionRecord, request: InvocationRequest, options: InvokeOptions, startedAt: number): InvocationTrace {
    const stored = options.traceContext;
    const parent = propagator.extract(ROOT_CONTEXT, stored ?? request.headers, defaultTextMapGetter);
    const name = record.spec.name;
    const attributes: Attributes = {
      [FAAS.TRIGGER]: faasTrigger(options.source),
      [FAAS.INVOCATION_ID]: options.invocationId,
      [FAAS.NAME]: name,
      [FAAS.VERSION]: String(record.version),
      [FAAS.MAX_MEMORY]: record.spec.memoryMb * 1024 * 1024,
      [NIMBUS.SOURCE]: options.source,
      [ATTR_HTTP_REQUEST_METHOD]: request.method,
      [ATTR_URL_PATH]: pathOnly(request.path),
    };
    if (options.source === 'http') attributes[ATTR_HTTP_ROUTE] = `/fn/${name}`;
    if (options.attempt !== undefined) attributes[NIMBUS.ATTEMPT] = options.attempt;
    // Queued work follows the messaging conventions: a consumer span in the accepting request's
    // trace (its child, so the whole story is one trace) that also links to it.
    const queued = stored !== undefined;
    const creation = queued ? trace.getSpanContext(parent) : undefined;
    const links: Link[] = creation ? [{ context: creation }] : [];
    const span = this.tracer.startSpan(name, { kind: queued ? SpanKind.CONSUMER : SpanKind.SERVER, startTime: startedAt, attributes, links }, parent);
    return new OtelInvocationTrace(this.tracer, span, startedAt);
  }

  beginAccept(functionName: string, method: string, headers: Record<string, string | string[]>, acceptedAt: number): AcceptTrace {
    const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(
      `${functionName} accept`,
      { kind: SpanKind.PRODUCER, startTime: acceptedAt, attributes: { [FAAS.NAME]: functionName, [ATTR_HTTP_REQUEST_METHOD]: method, [NIMBUS.SOURCE]: 'async' } },
      parent,
    );
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    const context: TraceContext = { traceparent: carrier['traceparent'] ?? '' };
    if (carrier['tracestate'] !== undefined) context.tracestate = carrier['tracestate'];
    return {
      context,
      end(at, invocationId, error) {
        if (invocationId !== undefined) span.setAttribute(FAAS.INVOCATION_ID, invocationId);
        if (error !== undefined) failed(span, isNimbusError(error) ? error.code : 'INTERNAL');
        span.end(at);
      },
    };
  }

  /** Exports what is pending, waiting at most {@link SHUTDOWN_EXPORT_MS}; rejects when that was not enough. */
  async shutdown(): Promise<void> {
    let cancel: (() => void) | undefined;
    const late = new Promise<'late'>((resolve) => {
      cancel = this.clock.after(SHUTDOWN_EXPORT_MS, () => resolve('late'));
    });
    try {
      const outcome = await Promise.race([this.provider.shutdown(), late]);
      if (outcome === 'late') throw new Error(`the collector did not take the last spans within ${SHUTDOWN_EXPORT_MS} ms; they are dropped`);
    } finally {
      cancel?.();
    }
  }
}

/** The open spans of one invocation. */
class OtelInvocationTrace implements InvocationTrace {
  private readonly context: Context;
  private call: Span | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly startedAt: number,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  dispatching(lease: { coldStart: boolean; waitMs: number; startMs: number }, headers: Record<string, string | string[]>, at: number): void {
    const admission = this.tracer.startSpan('admission wait', { startTime: this.startedAt }, this.context);
    if (lease.coldStart) {
      // The start is part of the wait (the request waited for that instance): its child, ending with it.
      this.tracer.startSpan('cold start', { startTime: Math.max(this.startedAt, at - lease.startMs) }, trace.setSpan(this.context, admission)).end(at);
    }
    admission.end(at);
    this.call = this.tracer.startSpan('instance call', { kind: SpanKind.CLIENT, startTime: at }, this.context);
    // The function continues the instance call's trace; a caller's tracestate goes with it.
    delete headers['traceparent'];
    delete headers['tracestate'];
    propagator.inject(trace.setSpan(ROOT_CONTEXT, this.call), headers, defaultTextMapSetter);
  }

  end(ended: InvocationEnded): void {
    const endAt = ended.startedAt + ended.timings.totalMs;
    const code = ended.error?.code;
    const status = ended.status ?? (code ? ERRORS[code].status : undefined);
    if (!this.call) {
      // Never forwarded: the whole invocation was the wait for capacity (refused or given up).
      const admission = this.tracer.startSpan('admission wait', { startTime: this.startedAt }, this.context);
      if (code) failed(admission, code);
      admission.end(endAt);
    } else {
      if (ended.status !== undefined) this.call.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, ended.status);
      if (code) failed(this.call, code);
      this.call.end(endAt);
    }
    const span = this.span;
    span.setAttribute(FAAS.COLDSTART, ended.coldStart);
    span.setAttribute(NIMBUS.OUTCOME, ended.outcome);
    if (ended.instanceId !== undefined) span.setAttribute(FAAS.INSTANCE, ended.instanceId);
    if (status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (code) failed(span, code);
    // A server's 5xx is an error of the server (HTTP conventions); 4xx is the caller's.
    else if (status !== undefined && status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(endAt);
  }
}

function failed(span: Span, code: string): void {
  span.setAttribute(NIMBUS.ERROR_CODE, code);
  span.setAttribute(ATTR_ERROR_TYPE, code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/** The path without its query: queries can carry secrets and are unbounded. */
function pathOnly(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}
