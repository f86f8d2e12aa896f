import { ATTEMPT_HEADER } from '../api/wire.js';
import type { Clock } from '../core/clock.js';
import { isNimbusError, isRetryable, NimbusError } from '../core/errors.js';
import type { InvocationEnded, InvocationRequest, InvokeOptions } from '../core/invocation.js';
import { formatDuration } from '../core/spec.js';
import { CPU_TIME_HEADER, HEALTH_PATH, INVOCATION_ID_HEADER } from '../core/runtime-protocol.js';
import type { FunctionRecord } from '../store/types.js';
import { DISABLED_TRACING, type Tracing } from '../telemetry/tracing.js';
import { DeadlineTimers } from './deadlines.js';
import type { FunctionCache } from './function-cache.js';
import { type ForwardOutcome, ResponseForwarder, type ResponseSink } from './forwarder.js';
import { handlerError } from './function-errors.js';
import { downstreamHeaders, instanceHeaders } from './headers.js';
import type { InvocationEvents } from './invocation-events.js';
import type { Admission, InstanceLease } from './lease.js';

/** The attempt number of an invocation, for functions that deduplicate retried work. */
export { ATTEMPT_HEADER };

/** What the invoker needs. */
export interface InvokerDeps {
  functions: FunctionCache;
  admission: Admission;
  clock: Clock;
  /** Told of every invocation that ended. */
  events: InvocationEvents;
  /** Spans of every invocation. @default DISABLED_TRACING (off: one boolean check per invocation) */
  tracing?: Tracing;
}

/** How an invocation ended: the event's facts, and the platform error to answer, if any. */
export interface InvocationResult {
  ended: InvocationEnded;
  /** Set when `ended.outcome` is `error`: what to answer the caller instead of a response. */
  error: NimbusError | undefined;
}

/** Marks an invocation whose caller went away; not an error of the function. */
const CALLER_GONE = Symbol('caller gone');
/** How long a failed invocation waits for its instance's exit to be observed, to report why it died. */
const EXIT_WAIT_MS = 500;

/**
 * Runs invocations, whatever brought them: one deadline per invocation (the function's timeout)
 * covering the wait for capacity and the handler, the request streamed to an instance and the
 * response streamed into the caller's sink, platform failures mapped to catalogue errors, and one
 * invocation-ended event. Edges adapt their transport to it; providers only provide instances.
 */
export class Invoker {
  /** Every invocation's deadline, on one timer of the clock. */
  private readonly deadlines: DeadlineTimers;
  private readonly tracing: Tracing;

  constructor(private readonly deps: InvokerDeps) {
    this.deadlines = new DeadlineTimers(deps.clock);
    this.tracing = deps.tracing ?? DISABLED_TRACING;
  }

  /** The deployed function `name` from memory (no I/O: the hot path), or undefined. */
  peek(name: string): FunctionRecord | undefined {
    return this.deps.functions.peek(name);
  }

  /** The deployed function `name`; FUNCTION_NOT_FOUND when there is none. */
  async lookup(name: string): Promise<FunctionRecord> {
    const record = await this.deps.functions.get(name);
    if (!record) throw new NimbusError('FUNCTION_NOT_FOUND', `No function named "${name}" is deployed. Deploy it with: nimbus deploy <path> --name ${name}`);
    return record;
  }

  /**
   * Runs one invocation of `record`. The response goes to `sink` as it streams; a platform error
   * (nothing or part of a response sent) comes back in the result for the edge to answer.
   * Never rejects for an invocation's own failure.
   */
  async invoke(record: FunctionRecord, request: InvocationRequest, sink: ResponseSink, options: InvokeOptions): Promise<InvocationResult> {
    const { clock, admission } = this.deps;
    const startedAt = clock.now();
    const began = clock.monotonic();
    const name = record.spec.name;
    const timeoutMs = options.timeoutMs ?? record.spec.timeoutMs;
    const deadline = startedAt + timeoutMs;
    const trace = this.tracing.enabled ? this.tracing.begin(record, request, options, startedAt) : undefined;
    let abortWait: AbortController | undefined;
    let forwarder: ResponseForwarder | undefined;
    let stopped: unknown;
    let lease: InstanceLease | undefined;
    const stop = (reason: unknown) => {
      stopped ??= reason;
      abortWait?.abort(reason);
      forwarder?.abort(reason instanceof Error ? reason : new Error('caller gone'));
    };
    // Still waiting for capacity when the deadline passes: no instance ran the request, so the
    // answer is the retryable FUNCTION_OVERLOADED (nothing to recycle), as for the wait cap.
    const deadlineTimer = this.deadlines.add(timeoutMs, () => stop(abortWait && !lease ? waitedOutError(name, timeoutMs) : timeoutError(name, timeoutMs)));
    const { caller } = options;
    const onCallerGone = () => {
      if (!sink.writableFinished) stop(CALLER_GONE);
    };
    caller?.onGone(onCallerGone);
    let dispatchedAt: number | undefined;
    let error: unknown;
    try {
      lease = admission.tryAcquire(record);
      if (!lease) {
        abortWait = new AbortController();
        try {
          lease = await admission.acquire(record, abortWait.signal);
        } catch (err) {
          error = stopped ?? err;
        }
      }
      if (lease && stopped !== undefined) {
        lease.release('ok');
        error = stopped;
      } else if (lease) {
        dispatchedAt = clock.monotonic();
        let headers = request.headers;
        if (trace) {
          // The trace replaces the caller's trace headers: on a copy, as the request is the caller's.
          headers = { ...headers };
          trace.dispatching(lease, headers, startedAt + (dispatchedAt - began));
        }
        const head = instanceHeaders(headers, options.invocationId, deadline, options.attempt);
        forwarder = this.forwarder(sink, lease, options.invocationId, dispatchedAt);
        lease.dispatcher.dispatch({ path: request.path, method: request.method as 'GET', headers: head, body: request.body }, forwarder);
        error = await this.settle(record, lease, await forwarder.done, () => stopped, deadline);
      }
    } finally {
      deadlineTimer.cancel();
      caller?.offGone(onCallerGone);
    }
    const ended = this.ended(record, request, options, startedAt, began, dispatchedAt, lease, forwarder, error);
    trace?.end(ended);
    this.deps.events.emit(ended);
    return { ended, error: ended.outcome === 'error' ? (error as NimbusError) : undefined };
  }

  /** A forwarder that adds the platform's response headers (cold start, phase timings). */
  private forwarder(sink: ResponseSink, lease: InstanceLease, invocationId: string, dispatchedAt: number): ResponseForwarder {
    const forwarder: ResponseForwarder = new ResponseForwarder(sink, (_status, headers) => {
      const cpu = headers[CPU_TIME_HEADER];
      if (typeof cpu === 'string') forwarder.cpuMicros = Number(cpu);
      // All in the writeHead object: a header set earlier with setHeader makes node revalidate them all.
      const out = downstreamHeaders(headers);
      out[INVOCATION_ID_HEADER] = invocationId;
      out['x-nimbus-cold-start'] = lease.coldStart ? 'true' : 'false';
      out['server-timing'] = serverTiming(lease, this.deps.clock.monotonic() - dispatchedAt, out['server-timing']);
      return out;
    });
    return forwarder;
  }

  /**
   * Releases the lease according to how the exchange ended; answers the platform error the
   * caller gets instead of (the rest of) a response, or undefined.
   */
  private async settle(record: FunctionRecord, lease: InstanceLease, outcome: ForwardOutcome, stopped: () => unknown, deadline: number): Promise<unknown> {
    if (outcome.kind === 'ok') return lease.release('ok');
    const name = record.spec.name;
    if (outcome.kind === 'handler-error' && outcome.reason === 'OUT_OF_MEMORY') {
      // The runtime caught its own allocation failure: its state is suspect, so it is replaced.
      lease.release('crashed');
      return new NimbusError('FUNCTION_OUT_OF_MEMORY', `The handler of "${name}" ran out of memory (limit ${record.spec.memoryMb} MB); the instance was replaced. Raise its memory (nimbus deploy --memory) or use less.`);
    }
    if (outcome.kind === 'handler-error') {
      lease.release('ok');
      return handlerError(outcome.reason, outcome.body, name);
    }
    const reason = stopped() ?? outcome.error;
    if (reason === CALLER_GONE) {
      lease.release((await this.answersWithin(lease, deadline)) ? 'ok' : 'timeout');
      return CALLER_GONE;
    }
    if (isNimbusError(reason) && reason.code === 'PAYLOAD_TOO_LARGE') {
      lease.release('ok');
      return reason;
    }
    if (isNimbusError(reason) && reason.code === 'FUNCTION_TIMEOUT') {
      lease.release('timeout');
      return reason;
    }
    lease.release('crashed');
    // Let the exit be observed so the message can say why the instance died.
    await lease.exitedWithin(EXIT_WAIT_MS);
    const why = lease.exitReason();
    if (lease.outOfMemory()) {
      return new NimbusError('FUNCTION_OUT_OF_MEMORY', `The instance of "${name}" ${why ?? 'ran out of memory'}; raise its memory (nimbus deploy --memory) or use less.`, { cause: outcome.error });
    }
    return new NimbusError('FUNCTION_CRASHED', `The instance of "${name}" ${why ?? 'closed the connection'} while serving this request.`, { cause: outcome.error });
  }

  /**
   * After a caller left mid-invocation (the function sees the abort): whether the instance still
   * answers its health check before the invocation's deadline. One that does not (stopped by
   * ptrace, spinning, wedged) is recycled at the deadline, as it would have been had the caller
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

  /** The invocation-ended event of an invocation that ended with `error` (undefined: a response). */
  private ended(
    record: FunctionRecord,
    request: InvocationRequest,
    options: InvokeOptions,
    startedAt: number,
    began: number,
    dispatchedAt: number | undefined,
    lease: InstanceLease | undefined,
    forwarder: ResponseForwarder | undefined,
    error: unknown,
  ): InvocationEnded {
    const now = this.deps.clock.monotonic();
    const startMs = lease?.startMs ?? 0;
    const ended: InvocationEnded = {
      invocationId: options.invocationId,
      function: record.spec.name,
      version: record.version,
      source: options.source,
      attempt: options.attempt ?? 1,
      startedAt,
      outcome: error === undefined ? 'response' : error === CALLER_GONE ? 'abandoned' : 'error',
      coldStart: lease?.coldStart ?? false,
      timings: {
        queueMs: lease ? Math.max(0, lease.waitMs - startMs) : now - began,
        startMs,
        handlerMs: dispatchedAt === undefined ? 0 : now - dispatchedAt,
        totalMs: now - began,
      },
      bytesIn: dispatchedAt === undefined ? 0 : (request.bodyBytes ?? (Buffer.isBuffer(request.body) ? request.body.length : 0)),
      bytesOut: forwarder?.bytesOut ?? 0,
      method: request.method,
      path: request.path,
      memoryMb: record.spec.memoryMb,
    };
    if (lease) ended.instanceId = lease.instanceId;
    const cpuMicros = forwarder?.cpuMicros;
    if (cpuMicros !== undefined && cpuMicros >= 0) ended.cpuMs = cpuMicros / 1000;
    if (forwarder && forwarder.status !== 0) ended.status = forwarder.status;
    if (ended.outcome === 'error') {
      const code = isNimbusError(error) ? error.code : 'INTERNAL';
      ended.error = { code, retryable: isRetryable(code) };
    }
    return ended;
  }
}

function waitedOutError(name: string, timeoutMs: number): NimbusError {
  return new NimbusError('FUNCTION_OVERLOADED', `"${name}" had no free capacity within its timeout of ${formatDuration(timeoutMs)}; retry shortly.`, {
    headers: { 'retry-after': '1' },
  });
}

function timeoutError(name: string, timeoutMs: number): NimbusError {
  return new NimbusError('FUNCTION_TIMEOUT', `"${name}" did not answer within its timeout of ${formatDuration(timeoutMs)}; the instance was recycled.`);
}

/** The Server-Timing value: the platform's phases, then any the function set itself. */
function serverTiming(lease: InstanceLease, handlerMs: number, own: string | string[] | undefined): string | string[] {
  const queue = Math.max(0, lease.waitMs - lease.startMs);
  const ours = `queue;dur=${tenths(queue)}, ${lease.coldStart ? `start;dur=${tenths(lease.startMs)}, ` : ''}handler;dur=${tenths(handlerMs)}`;
  return own === undefined ? ours : [ours, ...(Array.isArray(own) ? own : [own])];
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
