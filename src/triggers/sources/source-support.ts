/**
 * Small pieces every source needs: a status that reports only changes, one back-off rule, sleeps
 * that end early when the source stops. (Extension names from broker metadata: event-extensions.ts.)
 */
import type { Clock } from '../../core/clock.js';
import type { SourceStatus } from '../types.js';

/** Reports to the platform only when the state or the reason changes (reconnect loops repeat themselves). */
export class ChangeOnlyStatus {
  private last: string | undefined;

  constructor(private readonly status: SourceStatus) {}

  active(): void {
    if (this.last === '') return;
    this.last = '';
    this.status.active();
  }

  failing(reason: string): void {
    if (this.last === reason) return;
    this.last = reason;
    this.status.failing(reason);
  }
}

/**
 * The back-off every source uses: `firstMs` after the first failure in a row, doubling with each
 * further one, never more than `maxMs`.
 */
export function backoffDelay(failuresInARow: number, firstMs: number, maxMs: number): number {
  // The exponent is capped so a long outage cannot overflow to Infinity.
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(0, failuresInARow - 1), 30));
}

/** {@link backoffDelay} with jitter, counting for itself: 0.5 s, 1 s, 2 s … up to `maxMs`; `reset` after a success. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly firstMs = 500,
    private readonly maxMs = 30_000,
  ) {}

  /** The wait before the next attempt (grows with each call). */
  next(): number {
    this.failures = Math.min(this.failures + 1, 31);
    const base = backoffDelay(this.failures, this.firstMs, this.maxMs);
    // Up to 20% jitter, so the triggers of one broker do not all reconnect at the same instant.
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.after(ms, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves with the promise's value, or with `undefined` as soon as `signal` aborts. */
export function unlessStopped<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}

/** A short message for a status reason or a log line, whatever was thrown. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** Waits of a source that reconnects and hands refused batches back (tests shorten them). */
export interface SourceTimings {
  /** How long `stop` waits for a delivery in progress before closing anyway (the broker redelivers it). @default 10000 */
  stopGraceMs?: number;
  /** First delay before a refused batch is handed back or read again; doubles on each refusal in a row. @default 200 */
  retryDelayMs?: number;
  /** Longest delay before a refused batch is handed back or read again (and, for redis, between attempts after an error). @default 10000 */
  retryMaxDelayMs?: number;
  /** First delay between connection attempts (the client library adds jitter). @default 200 */
  reconnectDelayMs?: number;
  /** Longest delay between connection attempts. @default 30000 */
  reconnectMaxDelayMs?: number;
}

/** The defaults of {@link SourceTimings}. */
export const SOURCE_TIMINGS: Required<SourceTimings> = {
  stopGraceMs: 10_000,
  retryDelayMs: 200,
  retryMaxDelayMs: 10_000,
  reconnectDelayMs: 200,
  reconnectMaxDelayMs: 30_000,
};
