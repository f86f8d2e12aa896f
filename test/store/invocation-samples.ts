import type { InvocationRecord } from '../../src/store/invocation-types.js';

/** A creation time for sample records (epoch milliseconds). */
export const T0 = 1_700_000_000_000;

/** Every byte value once: bodies that are not text must come back exactly. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** A record with only the fields every record has (queued, of `fn-a`); `overrides` changes single fields. */
export function record(id: string, overrides: Partial<InvocationRecord> = {}): InvocationRecord {
  return { id, function: 'fn-a', status: 'queued', attempts: 0, createdAt: T0, method: 'POST', path: '/orders', ...overrides };
}

/** A dead letter with every field set, binary bodies included: a new object (and buffers) on every call. */
export function fullRecord(id: string, overrides: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    id,
    function: 'fn-a',
    version: 3,
    status: 'dead',
    attempts: 3,
    createdAt: T0,
    startedAt: T0 + 10,
    finishedAt: T0 + 20,
    nextAttemptAt: T0 + 30,
    error: { code: 'FUNCTION_TIMEOUT', message: 'The function did not answer within 30s.' },
    response: {
      status: 500,
      headers: { 'content-type': 'application/octet-stream', 'set-cookie': ['a=1', 'b=2'] },
      body: Buffer.concat([ALL_BYTES, Buffer.from([0, 0])]),
      truncated: true,
    },
    method: 'PUT',
    path: '/orders/7?x=1&y=%20',
    idempotencyKey: 'key-1',
    trigger: 'nightly',
    request: Buffer.concat([Buffer.from([0xff, 0]), ALL_BYTES]),
    ...overrides,
  };
}

/** An ended record (succeeded, failed or dead) of `fn`, finished at `finishedAt`. */
export function ended(id: string, status: 'succeeded' | 'failed' | 'dead', finishedAt: number, fn = 'fn-a'): InvocationRecord {
  return record(id, { function: fn, status, attempts: 1, createdAt: finishedAt - 5, startedAt: finishedAt - 3, finishedAt });
}
