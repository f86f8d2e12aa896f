import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertFunctionName, formatDuration, parseDuration, parseFunctionConfig } from '../../src/core/spec.js';
import { isNimbusError } from '../../src/core/errors.js';

test('durations: numbers are seconds, strings take units', () => {
  assert.equal(parseDuration(30), 30_000);
  assert.equal(parseDuration('30'), 30_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('1.5d'), 36 * 3_600_000);
  assert.equal(parseDuration('-1s'), undefined);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(parseDuration(Number.NaN), undefined);
  assert.equal(formatDuration(300_000), '5m');
  assert.equal(formatDuration(5_430_000), '1h30m30s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(86_400_000), '1d');
  assert.equal(formatDuration(36 * 3_600_000 + 60_000), '1d12h1m');
  assert.equal(formatDuration(365 * 86_400_000), '365d');
});

test('function names are DNS labels', () => {
  for (const ok of ['a', 'hello', 'my-fn-2', 'x'.repeat(63)]) assertFunctionName(ok);
  for (const bad of ['', 'A', '1a', 'a-', 'a_b', 'a.b', 'x'.repeat(64), 'é', 'a/b', 'a\0']) {
    assert.throws(() => assertFunctionName(bad), (err) => isNimbusError(err) && err.code === 'INVALID_NAME', bad);
  }
});

test('config: ranges, types and unknown fields name the field', () => {
  const sha = 'a'.repeat(64);
  assert.deepEqual(parseFunctionConfig({ package: sha, timeout: '2s', idleTimeout: 60 }), { package: sha, timeout: 2000, idleTimeout: 60_000 });
  const field = (body: unknown) => {
    try {
      parseFunctionConfig(body);
      return 'accepted';
    } catch (err) {
      return isNimbusError(err) ? err.details?.field : 'not a NimbusError';
    }
  };
  assert.equal(field({ package: sha, timeout: '0s' }), 'timeout');
  assert.equal(field({ package: sha, timeout: '2h' }), 'timeout');
  assert.equal(field({ package: sha, memory: 10 ** 12 }), 'memory');
  assert.equal(field({ package: sha, memory: 1.5 }), 'memory');
  assert.equal(field({ package: sha, concurrency: 0 }), 'concurrency');
  assert.equal(field({ package: sha, env: { NIMBUS_X: '1' } }), 'env');
  assert.equal(field({ package: sha, extra: 1 }), 'extra');
  assert.equal(field({}), 'package');
  assert.equal(field('nope'), 'body');
  assert.equal(field([]), 'body');
  assert.equal(field(null), 'body');
  assert.equal(field({ package: sha, timeout: true }), 'timeout');
  assert.equal(field({ package: sha, memory: Number.POSITIVE_INFINITY }), 'memory');
  assert.equal(field(JSON.parse(`{"package":"${sha}","env":{"__proto__":"x"}}`)), 'env.__proto__');
  assert.equal(field({ package: sha, env: { A: 'bad \ud800 half' } }), 'env.A');
  assert.equal(field({ package: sha, env: { A: 'é'.repeat(40_000) } }), 'env', 'the env limit counts bytes, not characters');
  assert.equal(field({ package: sha, secrets: 'DB' }), 'secrets');
  assert.equal(field({ package: sha, secrets: ['db'] }), 'secrets.0');
  assert.equal(field({ package: sha, secrets: ['OK', 'NIMBUS_SOCKET'] }), 'secrets.1');
  assert.equal(field({ package: sha, secrets: ['A', 'A'] }), 'secrets');
  assert.equal(field({ package: sha, secrets: Array.from({ length: 101 }, (_, i) => `S${i}`) }), 'secrets');
  assert.deepEqual(parseFunctionConfig({ package: sha, secrets: ['DB_PASSWORD', '_X1'] }).secrets, ['DB_PASSWORD', '_X1']);
});

test('config: async settings take ranges, durations, and null to remove a destination', () => {
  const sha = 'a'.repeat(64);
  assert.deepEqual(parseFunctionConfig({ package: sha, asyncConcurrency: 4, maxRetries: 0, retryDelay: '500ms', maxEventAge: '7d', onSuccess: 'notify', onFailure: null }), {
    package: sha,
    asyncConcurrency: 4,
    maxRetries: 0,
    retryDelay: 500,
    maxEventAge: 7 * 86_400_000,
    onSuccess: 'notify',
    onFailure: null,
  });
  // Numbers are seconds, as for timeout.
  assert.equal(parseFunctionConfig({ package: sha, retryDelay: 2 }).retryDelay, 2000);
  assert.equal(parseFunctionConfig({ package: sha, maxEventAge: 60 }).maxEventAge, 60_000);
  const refused = (body: Record<string, unknown>): { field: unknown; message: string } | 'accepted' => {
    try {
      parseFunctionConfig({ package: sha, ...body });
      return 'accepted';
    } catch (err) {
      assert.ok(isNimbusError(err) && err.code === 'INVALID_REQUEST', String(err));
      return { field: err.details?.field, message: err.message };
    }
  };
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ asyncConcurrency: -1 }, 'asyncConcurrency', /at least 0/],
    [{ asyncConcurrency: 10_001 }, 'asyncConcurrency', /at most 10000/],
    [{ asyncConcurrency: 1.5 }, 'asyncConcurrency', /whole number/],
    [{ maxRetries: -1 }, 'maxRetries', /at least 0/],
    [{ maxRetries: 21 }, 'maxRetries', /at most 20/],
    [{ maxRetries: '2' }, 'maxRetries', /whole number/],
    [{ retryDelay: '50ms' }, 'retryDelay', /between 100ms and 5m/],
    [{ retryDelay: '6m' }, 'retryDelay', /between 100ms and 5m/],
    [{ retryDelay: 'soon' }, 'retryDelay', /duration/],
    [{ maxEventAge: '500ms' }, 'maxEventAge', /between 1s and 7d/],
    [{ maxEventAge: '8d' }, 'maxEventAge', /between 1s and 7d/],
    [{ onSuccess: 'Not_A_Name' }, 'onSuccess', /function name/],
    [{ onFailure: '' }, 'onFailure', /function name/],
    [{ onFailure: 3 }, 'onFailure', /function name, or null/],
  ];
  for (const [body, field, message] of cases) {
    const result = refused(body);
    assert.notEqual(result, 'accepted', JSON.stringify(body));
    if (result === 'accepted') continue;
    assert.equal(result.field, field, JSON.stringify(body));
    assert.match(result.message, message, JSON.stringify(body));
  }
  for (const edge of [{ asyncConcurrency: 0 }, { asyncConcurrency: 1 }, { asyncConcurrency: 10_000 }, { maxRetries: 20 }, { retryDelay: '100ms' }, { retryDelay: '5m' }, { maxEventAge: '1s' }, { maxEventAge: '7d' }]) {
    assert.equal(refused(edge), 'accepted', JSON.stringify(edge));
  }
});
