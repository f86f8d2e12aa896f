import type { InvocationSource } from '../core/invocation.js';

/**
 * Attribute names of the OpenTelemetry FaaS semantic conventions (semconv 1.45, still in
 * development there). Copied rather than imported from `@opentelemetry/semantic-conventions/incubating`,
 * as that package advises for unstable names: a minor release may change them.
 */
export const FAAS = Object.freeze({
  INVOCATION_ID: 'faas.invocation_id',
  COLDSTART: 'faas.coldstart',
  TRIGGER: 'faas.trigger',
  NAME: 'faas.name',
  VERSION: 'faas.version',
  /** Bytes. */
  MAX_MEMORY: 'faas.max_memory',
  INSTANCE: 'faas.instance',
});

/** Nimbus's own attributes: what the conventions have no name for. */
export const NIMBUS = Object.freeze({
  /** The catalogue code of a platform error (docs/errors.md). */
  ERROR_CODE: 'nimbus.error_code',
  /** 1 for the first try of an async invocation, counting up with retries. */
  ATTEMPT: 'nimbus.attempt',
  /** `response`, `error` or `abandoned` (the caller went away), as in the invocation-ended event. */
  OUTCOME: 'nimbus.outcome',
  /** Where the invocation came from: http, async, trigger. */
  SOURCE: 'nimbus.source',
});

/**
 * `faas.trigger` of a Nimbus source. `http`: a request at the gateway. Async invocations (a
 * request queued by the platform and run later) and triggers (which the platform runs from its
 * own queue) are `other`: the conventions' `pubsub` means a message system the user publishes
 * to, and `timer` a schedule, neither of which the source alone tells.
 */
export function faasTrigger(source: InvocationSource): 'http' | 'other' {
  return source === 'http' ? 'http' : 'other';
}
