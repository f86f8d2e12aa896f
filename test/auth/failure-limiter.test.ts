import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, FailureLimiter } from '../../src/auth/failure-limiter.js';
import { ManualClock } from '../../src/core/clock.js';

describe('FailureLimiter', () => {
  it('allows a burst of failures, then one per refill period, per address', () => {
    const clock = new ManualClock(1_000_000);
    const limiter = new FailureLimiter(clock, { burst: 3, refillMs: 6000 });
    assert.deepEqual([limiter.fail('a'), limiter.fail('a'), limiter.fail('a')], [0, 0, 0]);
    assert.equal(limiter.limited('a'), true);
    assert.equal(limiter.fail('a'), 6);
    // Another address has its own allowance.
    assert.equal(limiter.fail('b'), 0);
    clock.advance(3000);
    assert.equal(limiter.fail('a'), 3, 'half refilled: 3 s to go');
    clock.advance(3000);
    assert.equal(limiter.limited('a'), false);
    assert.equal(limiter.fail('a'), 0);
    assert.equal(limiter.fail('a'), 6);
    // A quiet address earns its whole burst back, never more.
    clock.advance(60_000);
    assert.deepEqual([limiter.fail('a'), limiter.fail('a'), limiter.fail('a'), limiter.fail('a')], [0, 0, 0, 6]);
  });

  it('forgets the least recently failing addresses past maxClients', () => {
    const limiter = new FailureLimiter(new ManualClock(0), { burst: 1, maxClients: 2 });
    limiter.fail('a');
    limiter.fail('b');
    limiter.fail('a');
    limiter.fail('c');
    assert.equal(limiter.size, 2);
    assert.equal(limiter.limited('b'), false, 'b was forgotten');
    assert.equal(limiter.limited('a'), true);
  });

  it('counts IPv4-mapped IPv6 addresses as their IPv4 form', () => {
    assert.equal(clientAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(clientAddress('::1'), '::1');
    assert.equal(clientAddress(undefined), 'unknown');
  });
});
