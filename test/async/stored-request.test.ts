import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeEnvelope, decodeStoredRequest, encodeEnvelope, encodeStoredRequest, type StoredRequest } from '../../src/async/stored-request.js';

describe('stored requests', () => {
  test('round-trip every field and a binary body byte for byte', () => {
    const request: StoredRequest = {
      function: 'resize',
      method: 'PUT',
      path: '/images/7?size=small&q=%E2%9C%93',
      headers: { 'content-type': 'image/png', 'x-many': ['a', 'b'] },
      body: randomBytes(70_000),
      acceptedAt: 1_700_000_000_123,
      callbackUrl: 'https://example.com/done',
      source: 'async',
    };
    const decoded = decodeStoredRequest(encodeStoredRequest(request));
    assert.deepEqual({ ...decoded, body: Buffer.from(decoded.body) }, request);
  });

  test('every optional field round-trips, and absent ones stay absent (not undefined)', () => {
    const full: StoredRequest = {
      function: 'resize',
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{}'),
      acceptedAt: 1_700_000_000_123,
      callbackUrl: 'https://example.com/done',
      idempotencyKey: 'key-1',
      source: 'trigger',
      trigger: 'nightly',
      traceContext: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'a=1' },
    };
    const decoded = decodeStoredRequest(encodeStoredRequest(full));
    assert.deepEqual({ ...decoded, body: Buffer.from(decoded.body) }, full);
    const bare = decodeStoredRequest(encodeStoredRequest({ function: 'f', method: 'GET', path: '/', headers: {}, body: Buffer.alloc(0), acceptedAt: 1, source: 'async' }));
    assert.deepEqual(Object.keys(bare).sort(), ['acceptedAt', 'body', 'function', 'headers', 'method', 'path', 'source']);
  });

  test('an empty body stays empty', () => {
    const bytes = encodeEnvelope({ a: 1 }, Buffer.alloc(0));
    assert.deepEqual(decodeEnvelope(bytes), { meta: { a: 1 }, body: Buffer.alloc(0) });
  });

  test('refuses bytes that are not an envelope', () => {
    assert.throws(() => decodeStoredRequest(Buffer.from([0, 0])), /too short/);
    assert.throws(() => decodeStoredRequest(Buffer.from([0, 0, 1, 0, 123])), /truncated/);
    const future = Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('{"v":99}')]);
    assert.throws(() => decodeStoredRequest(future), /unknown format 99/);
  });
});
