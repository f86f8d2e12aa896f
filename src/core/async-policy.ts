import { type FunctionSpec, LIMITS } from './spec.js';

/**
 * How a function's async invocations run: every value resolved, so the accept edge, the workers
 * and the API's view read one answer and keep no defaults of their own. Times in milliseconds.
 */
export interface AsyncPolicy {
  /**
   * Async invocations of the function running at once. 0 holds them: they are accepted and kept
   * queued, none running, until a deploy raises it (an operator pausing the drain, as Lambda's
   * reserved concurrency 0 or a disabled event source mapping do); their maximum event age still
   * counts while they wait. No default is 0.
   */
  asyncConcurrency: number;
  /** Retries of a failed invocation after its first attempt. */
  maxRetries: number;
  /** Delay before the first retry; later ones double (see RETRY_DELAY_CAP_MS). */
  retryDelayMs: number;
  /** A queued invocation older than this is given up (dead) instead of run. */
  maxEventAgeMs: number;
  /** The function that gets the outcome of succeeded invocations, when set. */
  onSuccess?: string;
  /** The function that gets the outcome of failed and dead invocations, when set. */
  onFailure?: string;
}

/**
 * The async policy of a function version: its own settings, else the defaults (LIMITS). Versions
 * stored before async invocations existed have none and get the defaults too.
 *
 * The default concurrency is half the function's capacity, `max(1, floor(concurrency *
 * maxInstances / 2))`, computed from the version's own capacity rather than stored, so it follows
 * later changes of either; at most LIMITS.asyncConcurrency.max, the most a deploy may set.
 */
export function asyncPolicyOf(spec: FunctionSpec): AsyncPolicy {
  const policy: AsyncPolicy = {
    asyncConcurrency: spec.asyncConcurrency ?? defaultAsyncConcurrency(spec),
    maxRetries: spec.maxRetries ?? LIMITS.maxRetries.default,
    retryDelayMs: spec.retryDelayMs ?? LIMITS.retryDelayMs.default,
    maxEventAgeMs: spec.maxEventAgeMs ?? LIMITS.maxEventAgeMs.default,
  };
  if (spec.onSuccess !== undefined) policy.onSuccess = spec.onSuccess;
  if (spec.onFailure !== undefined) policy.onFailure = spec.onFailure;
  return policy;
}

/** Half the capacity, leaving the other half to sync callers (who cannot wait for a retry); never 0, which would hold. */
function defaultAsyncConcurrency(spec: Pick<FunctionSpec, 'concurrency' | 'maxInstances'>): number {
  const half = Math.floor((spec.concurrency * spec.maxInstances) / 2);
  return Math.min(LIMITS.asyncConcurrency.max, Math.max(1, half));
}
