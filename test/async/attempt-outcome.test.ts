import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffMs, outcomeOf, retryAfterMs } from '../../src/async/attempt-outcome.js';
import type { AsyncPolicy } from '../../src/core/async-policy.js';

const policy: AsyncPolicy = { asyncConcurrency: 4, maxRetries: 2, retryDelayMs: 1_000, maxEventAgeMs: 3_600_000 };
const NOW = 1_700_000_000_000;

describe('the async retry policy', () => {
  test('2xx and 3xx succeed; 4xx other than 429 fail without retry', () => {
    for (const status of [200, 204, 302]) assert.deepEqual(outcomeOf({ status }, 1, policy, NOW, NOW, 0), { kind: 'succeeded' });
    for (const status of [400, 404, 413, 422]) assert.deepEqual(outcomeOf({ status }, 1, policy, NOW, NOW, 0), { kind: 'failed' });
  });

  test('5xx, 429 and the listed platform errors are retried, up to maxRetries', () => {
    for (const result of [{ status: 500 }, { status: 503 }, { status: 429 }, { errorCode: 'FUNCTION_ERROR' as const }, { errorCode: 'FUNCTION_TIMEOUT' as const }, { errorCode: 'FUNCTION_CRASHED' as const }, { errorCode: 'FUNCTION_OUT_OF_MEMORY' as const }, { errorCode: 'FUNCTION_START_FAILED' as const }]) {
      assert.equal(outcomeOf(result, 1, policy, NOW, NOW, 0).kind, 'retry', JSON.stringify(result));
      assert.equal(outcomeOf(result, 2, policy, NOW, NOW, 0).kind, 'retry', JSON.stringify(result));
      assert.deepEqual(outcomeOf(result, 3, policy, NOW, NOW, 0), { kind: 'dead', reason: 'retries-exhausted' }, JSON.stringify(result));
    }
  });

  test('platform errors that retrying cannot help fail at once', () => {
    assert.deepEqual(outcomeOf({ errorCode: 'PAYLOAD_TOO_LARGE' }, 1, policy, NOW, NOW, 0), { kind: 'failed' });
  });

  test('maxRetries 0 makes the first failure dead', () => {
    assert.deepEqual(outcomeOf({ status: 500 }, 1, { ...policy, maxRetries: 0 }, NOW, NOW, 0), { kind: 'dead', reason: 'retries-exhausted' });
  });

  test('delays double from the first delay, with equal jitter, capped at 5 minutes', () => {
    assert.equal(backoffMs(1, 1_000, 0), 500);
    assert.equal(backoffMs(1, 1_000, 0.999999), 1_000);
    assert.equal(backoffMs(2, 1_000, 0), 1_000);
    assert.equal(backoffMs(3, 1_000, 0.5), 3_000);
    assert.equal(backoffMs(30, 1_000, 0.999999), 300_000);
    assert.equal(backoffMs(1_000, 1_000, 0), 150_000);
    assert.deepEqual(outcomeOf({ status: 500 }, 2, policy, NOW, NOW, 0), { kind: 'retry', delayMs: 1_000 });
  });

  test("the function's Retry-After sets the delay (seconds or an HTTP date), capped at 5 minutes", () => {
    assert.deepEqual(outcomeOf({ status: 429, retryAfter: '7' }, 1, policy, NOW, NOW, 0.9), { kind: 'retry', delayMs: 7_000 });
    assert.equal(retryAfterMs(new Date(NOW + 12_000).toUTCString(), NOW), 12_000);
    assert.equal(retryAfterMs('99999', NOW), 300_000);
    assert.equal(retryAfterMs(new Date(NOW - 5_000).toUTCString(), NOW), 0);
    assert.equal(retryAfterMs('soon', NOW), undefined);
    assert.equal(retryAfterMs(['3', '4'], NOW), 3_000);
    assert.equal(retryAfterMs(undefined, NOW), undefined);
  });

  test('a retry that would start after the maximum event age makes the invocation dead instead', () => {
    const acceptedAt = NOW - 3_599_600;
    assert.deepEqual(outcomeOf({ status: 500 }, 1, policy, acceptedAt, NOW, 0), { kind: 'dead', reason: 'event-age-exceeded' });
  });
});
