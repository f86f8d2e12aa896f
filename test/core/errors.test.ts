import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERRORS, isNimbusError, NimbusError, toNimbusError } from '../../src/core/errors.js';
import { ROOT } from '../integration/harness.js';

test('docs/errors.md lists every code with its status', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  for (const [code, { status }] of Object.entries(ERRORS)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), code);
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
