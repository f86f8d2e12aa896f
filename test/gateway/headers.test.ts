import assert from 'node:assert/strict';
import { test } from 'node:test';
import { instanceHeaders } from '../../src/gateway/headers.js';

test("instanceHeaders: the function's headers as name/value pairs, a repeated one pair by pair, then the platform's", () => {
  const headers = { 'content-type': 'application/json', 'x-many': ['a', 'b'] };
  assert.deepEqual(instanceHeaders(headers, 'inv-1', 1_700_000_000_000, 2), [
    'content-type', 'application/json',
    'x-many', 'a',
    'x-many', 'b',
    'x-nimbus-invocation-id', 'inv-1',
    'x-nimbus-deadline', '1700000000000',
    'x-nimbus-attempt', '2',
  ]);
  assert.deepEqual(headers, { 'content-type': 'application/json', 'x-many': ['a', 'b'] }, 'the headers given are not changed');
});

test("instanceHeaders: the platform's headers replace any the function's headers hold; no attempt header for sync calls", () => {
  const list = instanceHeaders({ 'x-nimbus-invocation-id': 'forged', 'x-nimbus-deadline': '1', 'x-nimbus-attempt': '9', accept: '*/*' }, 'inv-2', 5, undefined);
  assert.deepEqual(list, ['accept', '*/*', 'x-nimbus-invocation-id', 'inv-2', 'x-nimbus-deadline', '5']);
});
