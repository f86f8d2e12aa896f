import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asyncRequestOptions, prefersAsync } from '../../src/edges/async-request.js';
import { isNimbusError } from '../../src/core/errors.js';

const anyHost = () => true;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isNimbusError(err) ? err.code : 'not a NimbusError';
  }
  return undefined;
}

describe('Prefer: respond-async', () => {
  test('is recognised alone, among other preferences, with parameters, in any case', () => {
    assert.equal(prefersAsync({ prefer: 'respond-async' }), true);
    assert.equal(prefersAsync({ prefer: 'return=minimal, respond-async' }), true);
    assert.equal(prefersAsync({ prefer: 'Respond-Async; foo=bar, wait=10' }), true);
  });

  test('other preferences are the function’s business', () => {
    assert.equal(prefersAsync({}), false);
    assert.equal(prefersAsync({ prefer: 'return=minimal' }), false);
    assert.equal(prefersAsync({ prefer: 'this is (not) RFC 7240' }), false);
    assert.equal(prefersAsync({ prefer: 'respond-asynchronously' }), false);
  });

  test('a malformed header that mentions respond-async is refused', () => {
    assert.equal(code(() => prefersAsync({ prefer: 'respond-async; ;;; "' })), 'INVALID_PREFER');
    assert.equal(code(() => prefersAsync({ prefer: 'respond-async, wait=="x' })), 'INVALID_PREFER');
  });
});

describe('async request options', () => {
  test('take an idempotency key and a callback URL (ours or OpenFaaS’s header)', () => {
    assert.deepEqual(asyncRequestOptions({ 'idempotency-key': 'order-42', 'x-nimbus-callback-url': 'http://127.0.0.1:9/cb' }, ['Idempotency-Key', 'order-42'], anyHost), {
      idempotencyKey: 'order-42',
      callbackUrl: 'http://127.0.0.1:9/cb',
    });
    assert.deepEqual(asyncRequestOptions({ 'x-callback-url': 'https://hooks.example.com/x?y=1' }, [], anyHost), { callbackUrl: 'https://hooks.example.com/x?y=1' });
    assert.deepEqual(asyncRequestOptions({}, [], anyHost), {});
  });

  test('refuse a bad idempotency key', () => {
    assert.equal(code(() => asyncRequestOptions({ 'idempotency-key': '' }, [], anyHost)), 'INVALID_IDEMPOTENCY_KEY');
    assert.equal(code(() => asyncRequestOptions({ 'idempotency-key': 'x'.repeat(257) }, [], anyHost)), 'INVALID_IDEMPOTENCY_KEY');
    assert.equal(code(() => asyncRequestOptions({ 'idempotency-key': 'caf\u00e9' }, [], anyHost)), 'INVALID_IDEMPOTENCY_KEY');
    assert.equal(code(() => asyncRequestOptions({ 'idempotency-key': 'a, b' }, ['Idempotency-Key', 'a', 'idempotency-key', 'b'], anyHost)), 'INVALID_IDEMPOTENCY_KEY');
  });

  test('refuse a bad callback URL, or one to a host the platform does not allow', () => {
    for (const url of ['not a url', 'ftp://example.com/x', 'file:///etc/passwd', 'http://user:pw@example.com/', `http://example.com/${'a'.repeat(3000)}`]) {
      assert.equal(code(() => asyncRequestOptions({ 'x-nimbus-callback-url': url }, [], anyHost)), 'INVALID_CALLBACK_URL', url);
    }
    const onlyExample = (url: URL) => url.hostname === 'example.com';
    assert.equal(code(() => asyncRequestOptions({ 'x-nimbus-callback-url': 'http://169.254.169.254/latest' }, [], onlyExample)), 'CALLBACK_HOST_NOT_ALLOWED');
    assert.equal(code(() => asyncRequestOptions({ 'x-nimbus-callback-url': 'http://example.com/ok' }, [], onlyExample)), undefined);
  });
});
