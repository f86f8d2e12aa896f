import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERRORS, isNimbusError, isRetryable, NimbusError, toNimbusError } from '../../src/core/errors.js';
import { ROOT } from '../integration/harness.js';

test('docs/errors.md lists every code with its status and whether it is retryable', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  for (const [code, { status, retryable }] of Object.entries(ERRORS)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\| ${retryable ? 'yes' : 'no'} \\|`), code);
  }
});

test('retryable: capacity, timeouts and function failures may succeed later; bad input never does', () => {
  for (const code of ['FUNCTION_OVERLOADED', 'FUNCTION_TIMEOUT', 'FUNCTION_CRASHED', 'FUNCTION_ERROR', 'FUNCTION_START_FAILED', 'SHUTTING_DOWN'] as const) assert.equal(isRetryable(code), true, code);
  for (const code of ['INVALID_REQUEST', 'FUNCTION_NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'INVOKE_KEY_INVALID', 'FORBIDDEN'] as const) assert.equal(isRetryable(code), false, code);
  // Every 4xx but the rate limits and the header timeout is the caller's to fix.
  for (const [code, { status, retryable }] of Object.entries(ERRORS)) {
    if (status >= 400 && status < 500 && code !== 'AUTH_RATE_LIMITED' && code !== 'REQUEST_TIMEOUT') assert.equal(retryable, false, code);
  }
});

test('errors carry their catalogue status and serialise without internals', () => {
  const err = new NimbusError('FUNCTION_TIMEOUT', 'too slow', { details: { field: 'x' } });
  assert.equal(err.status, 504);
  assert.deepEqual(err.toJSON(), { error: { code: 'FUNCTION_TIMEOUT', message: 'too slow', details: { field: 'x' } } });
  assert.ok(isNimbusError(err));
  const wrapped = toNimbusError(new Error('secret path /root/x'));
  assert.equal(wrapped.code, 'INTERNAL');
  assert.doesNotMatch(wrapped.message, /secret/);
});
