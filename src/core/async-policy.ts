import type { FunctionSpec } from './spec.js';
import { LIMITS } from './spec.js';

/** How a function's async invocations run: concurrency, retries, maximum age and destinations. */
export interface AsyncPolicy {
  asyncConcurrency: number;
  maxRetries: number;
  retryDelayMs: number;
  maxEventAgeMs: number;
  onSuccess?: string;
  onFailure?: string;
}

/** The async policy of a function version, defaults resolved. */
export function asyncPolicyOf(spec: FunctionSpec): AsyncPolicy {
  const s = spec as FunctionSpec & Partial<AsyncPolicy> & { asyncConcurrency?: number };
  const policy: AsyncPolicy = {
    asyncConcurrency: s.asyncConcurrency ?? Math.max(1, Math.floor((spec.concurrency * spec.maxInstances) / 2)),
    maxRetries: s.maxRetries ?? LIMITS.maxRetries.default,
    retryDelayMs: s.retryDelayMs ?? LIMITS.retryDelayMs.default,
    maxEventAgeMs: s.maxEventAgeMs ?? LIMITS.maxEventAgeMs.default,
  };
  if (s.onSuccess) policy.onSuccess = s.onSuccess;
  if (s.onFailure) policy.onFailure = s.onFailure;
  return policy;
}
