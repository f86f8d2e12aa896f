import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asyncPolicyOf } from '../../src/core/async-policy.js';
import { type FunctionSpec, LIMITS } from '../../src/core/spec.js';
import { sampleSpec } from '../store/store-fixture.js';

/** A version as stored before async invocations existed: no async field at all. */
const OLD: FunctionSpec = sampleSpec('hello');

describe('asyncPolicyOf', () => {
  test('a version without async settings gets the defaults: half its capacity, 2 retries after 1s, 6h', () => {
    assert.deepEqual(asyncPolicyOf(OLD), { asyncConcurrency: 320, maxRetries: 2, retryDelayMs: 1000, maxEventAgeMs: 6 * 3_600_000 });
    assert.deepEqual(asyncPolicyOf(OLD), {
      asyncConcurrency: Math.floor((64 * 10) / 2),
      maxRetries: LIMITS.maxRetries.default,
      retryDelayMs: LIMITS.retryDelayMs.default,
      maxEventAgeMs: LIMITS.maxEventAgeMs.default,
    });
  });

  test('the default concurrency follows the capacity, at least 1 and at most the settable maximum', () => {
    const concurrencyOf = (concurrency: number, maxInstances: number) => asyncPolicyOf({ ...OLD, concurrency, maxInstances }).asyncConcurrency;
    assert.equal(concurrencyOf(8, 3), 12);
    assert.equal(concurrencyOf(3, 3), 4, 'rounded down');
    assert.equal(concurrencyOf(1, 1), 1, 'never 0: a function with one slot still runs async work');
    assert.equal(concurrencyOf(1000, 1000), LIMITS.asyncConcurrency.max);
  });

  test("a version's own settings win; destinations only when set", () => {
    const policy = asyncPolicyOf({ ...OLD, asyncConcurrency: 3, maxRetries: 0, retryDelayMs: 250, maxEventAgeMs: 60_000, onSuccess: 'notify', onFailure: 'alert' });
    assert.deepEqual(policy, { asyncConcurrency: 3, maxRetries: 0, retryDelayMs: 250, maxEventAgeMs: 60_000, onSuccess: 'notify', onFailure: 'alert' });
    assert.equal('onSuccess' in asyncPolicyOf(OLD), false);
    assert.equal('onFailure' in asyncPolicyOf({ ...OLD, onSuccess: 'notify' }), false);
  });

  test('an own concurrency of 0 holds the async work; no default ever does', () => {
    assert.equal(asyncPolicyOf({ ...OLD, asyncConcurrency: 0 }).asyncConcurrency, 0);
    assert.equal(asyncPolicyOf({ ...OLD, concurrency: 1, maxInstances: 1 }).asyncConcurrency, 1);
  });
});
