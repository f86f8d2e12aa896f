import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import { SecretCipher } from '../../src/secrets/cipher.js';

const cipher = new SecretCipher(randomBytes(32));
const VALUE = Buffer.from('correct horse battery staple');

/** Asserts that opening fails with SECRET_DECRYPT_FAILED, naming the secret and not the value. */
function refuses(open: () => unknown, why: RegExp): void {
  assert.throws(open, (err) => {
    assert.ok(isNimbusError(err));
    assert.equal(err.code, 'SECRET_DECRYPT_FAILED');
    assert.match(err.message, why);
    assert.doesNotMatch(err.message, /horse/);
    assert.doesNotMatch(JSON.stringify(err.toJSON()), /horse/);
    return true;
  });
}

test('seal and open round-trip; each seal has its own IV; the plaintext is not in the sealed bytes', () => {
  const a = cipher.seal('DB', VALUE);
  const b = cipher.seal('DB', VALUE);
  assert.ok(cipher.open('DB', a).equals(VALUE));
  assert.ok(cipher.open('DB', b).equals(VALUE));
  assert.ok(!a.equals(b), 'random IV per value');
  assert.equal(a.length, 1 + 8 + 12 + 16 + VALUE.length);
  assert.equal(a.indexOf(VALUE), -1);
  assert.equal(a.indexOf(Buffer.from('horse')), -1);
});

test('a sealed value only opens under its own name (the name is authenticated data)', () => {
  refuses(() => cipher.open('OTHER', cipher.seal('DB', VALUE)), /altered or belongs to another secret/);
});

test('another key is recognised as such', () => {
  refuses(() => new SecretCipher(randomBytes(32)).open('DB', cipher.seal('DB', VALUE)), /encrypted with another key than the data directory's secrets\.key/);
});

test('tampering anywhere is detected', () => {
  const sealed = cipher.seal('DB', VALUE);
  for (const at of [9, 20, 21, 36, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at]! ^= 1;
    refuses(() => cipher.open('DB', bad), /altered/);
  }
  refuses(() => cipher.open('DB', sealed.subarray(0, 20)), /unknown to this version/);
  const otherFormat = Buffer.from(sealed);
  otherFormat[0] = 2;
  refuses(() => cipher.open('DB', otherFormat), /unknown to this version/);
});

test('keys must be 32 bytes', () => {
  assert.throws(() => new SecretCipher(randomBytes(16)), /32 bytes/);
});
