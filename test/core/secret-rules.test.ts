import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import { assertSecretName, checkSecretValue, SECRET_LIMITS } from '../../src/core/secret-rules.js';

test('secret names are upper-case environment variable names, NIMBUS_* reserved', () => {
  for (const ok of ['A', 'DB_PASSWORD', '_X', 'A1', 'N'.repeat(SECRET_LIMITS.nameLength), 'NIMBUS']) assertSecretName(ok);
  const bad = ['', 'a', 'Db', '1A', 'A-B', 'A.B', 'A B', 'A/B', '..', 'A\0', 'A\n', 'N'.repeat(SECRET_LIMITS.nameLength + 1), 'NIMBUS_SOCKET', 'ΑBC', 'A\u200b', '\u202eA'];
  for (const name of bad) {
    assert.throws(
      () => assertSecretName(name),
      (err) => isNimbusError(err) && err.code === 'INVALID_SECRET_NAME' && err.details?.field === 'name',
      JSON.stringify(name),
    );
  }
});

test('secret values: UTF-8 text without NUL, 1 byte to 64 KiB; messages never quote the value', () => {
  assert.equal(checkSecretValue(Buffer.from('hunter2 ✓')), 'hunter2 ✓');
  assert.equal(checkSecretValue(Buffer.alloc(SECRET_LIMITS.valueBytes, 'a')).length, SECRET_LIMITS.valueBytes);
  const refused = (value: Buffer, code: string) =>
    assert.throws(
      () => checkSecretValue(value),
      (err) => isNimbusError(err) && err.code === code && err.details?.field === 'value' && !err.message.includes('zq-private'),
    );
  refused(Buffer.alloc(0), 'INVALID_REQUEST');
  refused(Buffer.from('zq-private\0x'), 'INVALID_REQUEST');
  refused(Buffer.concat([Buffer.from('zq-private'), Buffer.from([0xff, 0xfe])]), 'INVALID_REQUEST');
  refused(Buffer.alloc(SECRET_LIMITS.valueBytes + 1, 'a'), 'PAYLOAD_TOO_LARGE');
});
