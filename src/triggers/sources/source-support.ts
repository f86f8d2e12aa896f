/**
 * Small pieces every broker source needs: a status that reports only changes, a back-off, sleeps
 * that end early when the source stops, and CloudEvents extension names made from broker headers.
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

/** Exponential back-off with jitter: 0.5 s, 1 s, 2 s … up to `maxMs`; `reset` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = 500,
    private readonly maxMs = 30_000,
  ) {}

  /** The wait before the next attempt (grows with each call). */
  next(): number {
    const base = Math.min(this.maxMs, this.firstMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    // Up to 20% jitter, so the triggers of one broker do not all reconnect at the same instant.
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  reset(): void {
    this.attempt = 0;
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

/** CloudEvents extension names: lowercase a-z and 0-9, at most 20 characters. */
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

/**
 * Broker headers (or user properties) as extensions named `<prefix><name>`: the name lowercased;
 * names with other characters than a-z and 0-9 (`Nats-Msg-Id`, `trace_id`), names too long for
 * the 20-character limit, and names the source sets itself (`reserved`) are left out: a lossy
 * rewrite could make two headers one. Repeated headers are joined with `,` (as HTTP does).
 */
export function headerExtensions(
  prefix: string,
  headers: Iterable<[string, string[]]>,
  reserved: ReadonlySet<string>,
): Record<string, string> {
  const extensions: Record<string, string> = {};
  for (const [name, values] of headers) {
    const extension = `${prefix}${name.toLowerCase()}`;
    if (!EXTENSION_NAME.test(extension) || reserved.has(extension)) continue;
    extensions[extension] = extensions[extension] === undefined ? values.join(',') : `${extensions[extension]},${values.join(',')}`;
  }
  return extensions;
}

/** A short message for a status reason or a log line, whatever was thrown. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
