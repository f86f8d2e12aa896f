import { RETRY_DELAY_CAP_MS } from '../api/wire.js';
import type { ErrorCode } from '../core/errors.js';
import type { AsyncPolicy } from '../core/async-policy.js';

/** Platform errors after which an async attempt is tried again (the list, plus capacity). */
const RETRIED_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'FUNCTION_ERROR',
  'FUNCTION_CRASHED',
  'FUNCTION_TIMEOUT',
  'FUNCTION_OUT_OF_MEMORY',
  'FUNCTION_START_FAILED',
  // No capacity in time, or a key that could not be read: the same attempt may work later.
  'FUNCTION_OVERLOADED',
  'SECRET_DECRYPT_FAILED',
  'INTERNAL',
]);

/** How one attempt ended, as far as the retry policy cares. */
export interface AttemptResult {
  /** The function's status, when it answered. */
  status?: number | undefined;
  /** The function's `Retry-After` header, when it sent one. */
  retryAfter?: string | string[] | undefined;
  /** The platform error, when the attempt ended with one instead of a response. */
  errorCode?: ErrorCode | undefined;
}

/** What to do after an attempt. */
export type AttemptOutcome =
  | { kind: 'succeeded' }
  /** A 4xx answer (not 429), or a platform error retrying cannot help: ended, not retried. */
  | { kind: 'failed' }
  | { kind: 'retry'; delayMs: number }
  /** Retries exhausted, or the next attempt would come after the maximum event age. */
  | { kind: 'dead'; reason: 'retries-exhausted' | 'event-age-exceeded' };

/**
 * The retry policy of async invocations (like Lambda's): 2xx and 3xx succeed; 4xx other than 429
 * fail without retry; 5xx, 429 and the function's own failures (errors, crashes, timeouts, running
 * out of memory, failing to start) are retried up to `maxRetries` times, the first after
 * `retryDelayMs`, then twice as long each time with jitter, at most 5 minutes apart; a
 * `Retry-After` from the function sets the delay instead. Past the last retry, or when the next
 * attempt would start after the maximum event age, the invocation is dead.
 *
 * @param attempt the attempt that just ended (1 for the first).
 * @param random a number in [0, 1) for the jitter (passed in so tests are exact).
 */
export function outcomeOf(result: AttemptResult, attempt: number, policy: AsyncPolicy, acceptedAt: number, now: number, random: number): AttemptOutcome {
  if (result.errorCode === undefined && result.status !== undefined && result.status < 400) return { kind: 'succeeded' };
  const retried = result.errorCode !== undefined ? RETRIED_ERRORS.has(result.errorCode) : result.status === 429 || (result.status ?? 500) >= 500;
  if (!retried) return { kind: 'failed' };
  if (attempt > policy.maxRetries) return { kind: 'dead', reason: 'retries-exhausted' };
  const delayMs = retryAfterMs(result.retryAfter, now) ?? backoffMs(attempt, policy.retryDelayMs, random);
  if (now + delayMs - acceptedAt > policy.maxEventAgeMs) return { kind: 'dead', reason: 'event-age-exceeded' };
  return { kind: 'retry', delayMs };
}

/**
 * The delay before attempt `attempt + 1`: `firstDelayMs × 2^(attempt-1)`, capped at 5 minutes, of
 * which the upper half is random ("equal jitter"), so retries of many invocations that failed
 * together spread out instead of arriving together again.
 */
export function backoffMs(attempt: number, firstDelayMs: number, random: number): number {
  const full = Math.min(RETRY_DELAY_CAP_MS, firstDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(full / 2 + (full / 2) * random);
}

/** A `Retry-After` value (delay-seconds or an HTTP date) in milliseconds from now, capped at 5 minutes; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(RETRY_DELAY_CAP_MS, Math.max(0, ms));
}
