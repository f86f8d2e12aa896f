import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callbackMessage } from '../../src/async/callbacks.js';
import { destinationRecord, encodeBody } from '../../src/async/destinations.js';
import { redriveTarget } from '../../src/async/dead-letters.js';
import { isNimbusError } from '../../src/core/errors.js';
import type { InvocationRecord } from '../../src/store/invocation-types.js';

const base: InvocationRecord = { id: 'inv-1', function: 'fn', version: 3, status: 'succeeded', attempts: 2, createdAt: 1_000, finishedAt: 5_000, method: 'POST', path: '/x?y=1' };

describe('callback messages', () => {
  test("carry the function's status, headers (minus hop-by-hop and length) and body", () => {
    const record: InvocationRecord = {
      ...base,
      response: { status: 201, headers: { 'content-type': 'text/plain', connection: 'keep-alive', 'content-length': '2', 'x-own': ['a', 'b'] }, body: Buffer.from('ok'), truncated: false },
    };
    const { headers, body } = callbackMessage(record);
    assert.deepEqual(headers, { 'content-type': 'text/plain', 'x-own': ['a', 'b'], 'x-nimbus-status': '201', 'x-nimbus-invocation-id': 'inv-1' });
    assert.equal(body.toString(), 'ok');
  });

  test('carry the platform error as JSON when the function did not answer', () => {
    const { headers, body } = callbackMessage({ ...base, status: 'dead', error: { code: 'FUNCTION_TIMEOUT', message: 'too slow' } });
    assert.equal(headers['x-nimbus-status'], '504');
    assert.equal(headers['x-nimbus-error'], 'FUNCTION_TIMEOUT');
    assert.deepEqual(JSON.parse(body.toString()), { error: { code: 'FUNCTION_TIMEOUT', message: 'too slow' } });
  });
});

describe('destination records', () => {
  test('name the invocation, the condition and carry request and response, binary bodies as base64', () => {
    const record: InvocationRecord = { ...base, response: { status: 200, headers: { a: 'b' }, body: Buffer.from([0xff, 0x00]), truncated: true } };
    const out = destinationRecord(record, { function: 'fn', method: 'POST', path: '/x?y=1', headers: { h: 'v' }, body: Buffer.from('in'), acceptedAt: 1_000, source: 'async' }, 'Success');
    assert.deepEqual(out, {
      version: '1.0',
      timestamp: new Date(5_000).toISOString(),
      requestContext: { invocationId: 'inv-1', functionName: 'fn', functionVersion: 3, condition: 'Success', approximateInvokeCount: 2 },
      requestPayload: { method: 'POST', path: '/x?y=1', headers: { h: 'v' }, body: 'in', bodyEncoding: 'utf8' },
      responseContext: { statusCode: 200, error: null },
      responsePayload: { headers: { a: 'b' }, truncated: true, body: '/wA=', bodyEncoding: 'base64' },
    });
    assert.deepEqual(encodeBody(Buffer.from('h\u00e9')), { body: 'h\u00e9', bodyEncoding: 'utf8' });
  });
});

describe('redrive bodies', () => {
  test('take ids or all, nothing else', () => {
    assert.deepEqual(redriveTarget({ ids: ['a', 'b'] }), ['a', 'b']);
    assert.equal(redriveTarget({ all: true }), 'all');
    assert.deepEqual(redriveTarget({ ids: ['a'], all: false }), ['a']);
    for (const body of [null, [], 'x', {}, { ids: [] }, { ids: [1] }, { all: true, ids: ['a'] }, { all: 1 }, { ids: ['a'], more: 1 }, { ids: Array(1001).fill('a') }]) {
      assert.throws(() => redriveTarget(body), (err) => isNimbusError(err) && err.code === 'INVALID_REQUEST', JSON.stringify(body)?.slice(0, 50));
    }
  });
});
