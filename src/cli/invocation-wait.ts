/**
 * Waiting for an async invocation to end (`invoke --wait`, `invocations get --wait`): polls
 * `GET /api/v1/invocations/{id}` with a gentle back-off until the status is succeeded, failed or
 * dead. Time is passed in (a clock with `now` and `sleep`), so tests step through minutes of
 * retries without sleeping. Running out of time or being stopped are outcomes, not exceptions.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { InvocationStatus, InvocationView } from '../api/wire.js';
import { ApiError } from './client.js';

/** Statuses after which nothing changes any more (unless a dead letter is redriven). */
export const ENDED_STATUSES: ReadonlySet<InvocationStatus> = new Set(['succeeded', 'failed', 'dead']);

/** The back-off between two polls: 100 ms, growing by half each time, up to 1 s. */
export const POLL_BACKOFF = { initialMs: 100, factor: 1.5, maxMs: 1_000 } as const;

/** The delay before the next poll, after one of `previousMs` (none: the first). */
export function nextPollDelay(previousMs?: number): number {
  if (previousMs === undefined) return POLL_BACKOFF.initialMs;
  return Math.min(POLL_BACKOFF.maxMs, Math.round(previousMs * POLL_BACKOFF.factor));
}

/** What the wait needs of time. */
export interface WaitClock {
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: WaitClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? { signal } : {});
  },
};

export interface WaitOptions {
  /** Give up after this long (milliseconds from the start of the wait). */
  timeoutMs: number;
  /** @default systemClock */
  clock?: WaitClock;
  /** Stops the wait (Ctrl-C): the outcome is then `stopped`. */
  signal?: AbortSignal;
  /** Called with the first view, then with each one whose status or attempt count changed. */
  onChange?(view: InvocationView): void;
  /**
   * How long an id may be unknown (`INVOCATION_NOT_FOUND`) before that is an error: an
   * invocation just accepted may take a moment to show. @default 5000
   */
  notFoundGraceMs?: number;
}

/** How a wait ended: the invocation ended, time ran out, or the caller stopped it. `view` is the last one seen. */
export type WaitOutcome =
  | { kind: 'ended'; view: InvocationView }
  | { kind: 'timeout'; view: InvocationView | undefined }
  | { kind: 'stopped'; view: InvocationView | undefined };

/** Polls `get(id)` until the invocation ends, the time runs out or `signal` stops it. Platform errors other than a brief `INVOCATION_NOT_FOUND` are thrown. */
export async function waitForInvocation(get: (id: string) => Promise<InvocationView>, id: string, options: WaitOptions): Promise<WaitOutcome> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  const deadline = start + options.timeoutMs;
  const grace = options.notFoundGraceMs ?? 5_000;
  let view: InvocationView | undefined;
  let seen = '';
  let wait: number | undefined;
  for (;;) {
    if (options.signal?.aborted) return { kind: 'stopped', view };
    try {
      view = await get(id);
    } catch (err) {
      const unknown = err instanceof ApiError && err.code === 'INVOCATION_NOT_FOUND';
      if (!unknown || view !== undefined || clock.now() - start >= grace) throw err;
    }
    if (view) {
      const key = `${view.status}/${view.attempts}`;
      if (key !== seen) {
        seen = key;
        options.onChange?.(view);
      }
      if (ENDED_STATUSES.has(view.status)) return { kind: 'ended', view };
    }
    if (options.signal?.aborted) return { kind: 'stopped', view };
    const left = deadline - clock.now();
    if (left <= 0) return { kind: 'timeout', view };
    wait = nextPollDelay(wait);
    try {
      await clock.sleep(Math.min(wait, left), options.signal);
    } catch (err) {
      if (options.signal?.aborted) return { kind: 'stopped', view };
      throw err;
    }
  }
}
