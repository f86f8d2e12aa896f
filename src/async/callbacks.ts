import { request } from 'undici';
import { CALLBACK_STATUS_HEADER, INVOCATION_ID_HEADER } from '../api/wire.js';
import type { Clock } from '../core/clock.js';
import { ERROR_HEADER, ERRORS } from '../core/errors.js';
import { HOP_BY_HOP } from '../gateway/headers.js';
import type { Lease, Queue } from '../queue/types.js';
import type { InvocationRecord } from '../store/invocation-types.js';
import { backoffMs } from './attempt-outcome.js';
import { decodeEnvelope, encodeEnvelope } from './stored-request.js';

/**
 * The queue partition of callback deliveries. Not a valid function name (those are DNS labels),
 * so it cannot collide with a function's partition.
 */
export const CALLBACK_PARTITION = ':callbacks';
/** Deliveries of callbacks in flight at once. */
export const CALLBACK_CONCURRENCY = 32;
/** Attempts to deliver one callback before it is given up. */
export const CALLBACK_ATTEMPTS = 5;
/** Delay before the second delivery attempt; doubles (with jitter) after. */
const CALLBACK_FIRST_RETRY_MS = 1_000;
/** One delivery attempt's limit for connecting, the receiver's headers, and its body. */
export const CALLBACK_TIMEOUT_MS = 10_000;

/** A callback to deliver, as the queue keeps it (its body follows in the envelope). */
interface CallbackMeta {
  url: string;
  invocationId: string;
  headers: Record<string, string | string[]>;
}

/** What callback delivery needs. */
export interface CallbackDeps {
  queue: Queue;
  clock: Clock;
  /** Whether the platform may still call this URL (`--callback-hosts` may have changed since acceptance). */
  allowed(url: URL): boolean;
  random(): number;
  /** Told of a callback given up for good (logged for the operator). */
  onGivenUp(info: { url: string; invocationId: string; reason: string }): void;
}

/**
 * Callbacks of ended async invocations: the ending queues a delivery in the same queue as the
 * work (durable, at-least-once), and a delivery POSTs the outcome to the callback URL, retried
 * with back-off on network errors, 5xx and 429, up to {@link CALLBACK_ATTEMPTS} times. Redirects
 * are not followed, so a receiver cannot bounce the platform to another host.
 */
export class Callbacks {
  constructor(private readonly deps: CallbackDeps) {}

  /** Queues the callback of an invocation that ended as `record` says, to `url`. */
  async queue(url: string, record: InvocationRecord): Promise<void> {
    const { headers, body } = callbackMessage(record);
    const meta: CallbackMeta = { url, invocationId: record.id, headers };
    // One delivery per ending: a redriven invocation that ends again calls back again.
    const id = `${record.id}:${record.finishedAt ?? this.deps.clock.now()}`;
    await this.deps.queue.enqueue([{ id, partition: CALLBACK_PARTITION, payload: encodeEnvelope(meta, body) }]);
  }

  /** Makes one delivery attempt of a leased callback and settles the lease. */
  async deliver(lease: Lease): Promise<void> {
    const { queue } = this.deps;
    let meta: CallbackMeta;
    let body: Buffer;
    try {
      ({ meta, body } = decodeEnvelope<CallbackMeta>(lease.item.payload));
    } catch (err) {
      await queue.giveUp(lease);
      return this.deps.onGivenUp({ url: '', invocationId: lease.item.id, reason: `unreadable delivery: ${(err as Error).message}` });
    }
    if (!this.deps.allowed(new URL(meta.url))) {
      await queue.giveUp(lease);
      return this.deps.onGivenUp({ url: meta.url, invocationId: meta.invocationId, reason: 'the host is no longer in --callback-hosts' });
    }
    const failure = await post(meta, body);
    if (failure === undefined) {
      await queue.ack(lease);
    } else if (lease.attempt >= CALLBACK_ATTEMPTS) {
      await queue.giveUp(lease);
      this.deps.onGivenUp({ url: meta.url, invocationId: meta.invocationId, reason: `${failure} (after ${lease.attempt} attempts)` });
    } else if (failure.startsWith('refused')) {
      await queue.giveUp(lease);
      this.deps.onGivenUp({ url: meta.url, invocationId: meta.invocationId, reason: failure });
    } else {
      await queue.retryLater(lease, backoffMs(lease.attempt, CALLBACK_FIRST_RETRY_MS, this.deps.random()));
    }
  }
}

/**
 * One POST; undefined when the receiver took it (2xx), else why not: `refused: ...` for a 4xx
 * other than 408 and 429 (retrying will not help), anything else is worth retrying.
 */
async function post(meta: CallbackMeta, body: Buffer): Promise<string | undefined> {
  try {
    const res = await request(meta.url, {
      method: 'POST',
      headers: meta.headers,
      body,
      headersTimeout: CALLBACK_TIMEOUT_MS,
      bodyTimeout: CALLBACK_TIMEOUT_MS,
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS * 2),
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return undefined;
    const retryable = res.statusCode === 408 || res.statusCode === 429 || res.statusCode >= 500 || res.statusCode < 200;
    return `${retryable ? '' : 'refused: '}the receiver answered ${res.statusCode}`;
  } catch (err) {
    return `the request failed: ${(err as Error).message}`;
  }
}

/**
 * The callback of an ended invocation: the function's status (`x-nimbus-status`), headers and
 * body when it answered; the platform error as JSON (with `x-nimbus-error`) when it did not.
 */
export function callbackMessage(record: InvocationRecord): { headers: Record<string, string | string[]>; body: Buffer } {
  const headers: Record<string, string | string[]> = {};
  let body: Buffer;
  if (record.response && !record.error) {
    for (const [name, value] of Object.entries(record.response.headers)) {
      if (!HOP_BY_HOP.has(name) && name !== 'content-length') headers[name] = value;
    }
    headers[CALLBACK_STATUS_HEADER] = String(record.response.status);
    body = record.response.body;
  } else {
    const error = record.error ?? { code: 'INTERNAL' as const, message: 'The invocation ended without a response.' };
    headers['content-type'] = 'application/json';
    headers[ERROR_HEADER] = error.code;
    headers[CALLBACK_STATUS_HEADER] = String(ERRORS[error.code].status);
    body = Buffer.from(JSON.stringify({ error }));
  }
  headers[INVOCATION_ID_HEADER] = record.id;
  return { headers, body };
}
