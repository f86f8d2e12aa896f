/** The OpenFaaS python3-http template form of the Python shim: handle(event, context). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFunction } from './shim-harness.js';

const HANDLER = `
import json

def handle(event, context):
    if event.path == "/dict":
        return {"statusCode": 201, "body": {"method": event.method, "path": event.path, "query": event.query, "body": event.body.decode(), "custom": event.headers.get("X-Custom"), "host": context.hostname}, "headers": {"x-template": "python3-http"}}
    if event.path == "/text":
        return {"statusCode": 202, "body": "plain", "headers": {"Content-Type": "text/plain"}}
    if event.path == "/bytes":
        return {"body": bytes(range(256)), "headers": {"Content-Type": "application/octet-stream"}}
    if event.path == "/string":
        return "just a string"
    if event.path == "/none":
        return None
    if event.path == "/bad-status":
        return {"statusCode": "lots"}
    raise ValueError("no route for " + event.path)
`;

test('python3-http template: event, context, dict/text/bytes/string/None results, errors', async () => {
  const { shim, form } = await startFunction('python', { 'handler.py': HANDLER }, { entry: 'handler.py', export: 'handle' });
  try {
    assert.equal(form, 'openfaas');
    const dict = await shim.request({ method: 'POST', path: '/dict?a=1&b=two', headers: { 'x-custom': 'c' }, body: 'payload' });
    assert.equal(dict.status, 201);
    assert.equal(dict.headers['x-template'], 'python3-http');
    assert.equal(dict.headers['content-type'], 'application/json');
    assert.deepEqual(dict.json(), { method: 'POST', path: '/dict', query: { a: '1', b: 'two' }, body: 'payload', custom: 'c', host: 'localhost' });
    const text = await shim.request({ path: '/text' });
    assert.equal(text.status, 202);
    assert.equal(text.headers['content-type'], 'text/plain');
    assert.equal(text.text(), 'plain');
    const bytes = await shim.request({ path: '/bytes' });
    assert.deepEqual(bytes.body, Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    const string = await shim.request({ path: '/string' });
    assert.equal(string.status, 200);
    assert.match(String(string.headers['content-type']), /^text\/html/);
    assert.equal(string.text(), 'just a string');
    assert.equal((await shim.request({ path: '/none' })).status, 200);
    const bad = await shim.request({ path: '/bad-status' });
    assert.equal(bad.status, 500);
    assert.equal(bad.headers['x-nimbus-shim-error'], 'INVALID_RESPONSE');
    const thrown = await shim.request({ path: '/boom' });
    assert.equal(thrown.status, 500);
    assert.equal(thrown.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
    assert.match(thrown.text(), /no route for \/boom/);
  } finally {
    await shim.stop();
  }
});

test('a function named handler stays Lambda style', async () => {
  const code = 'def handler(event, context):\n    return {"statusCode": 200, "body": event["rawPath"]}\n';
  const { shim, form } = await startFunction('python', { 'handler.py': code }, { entry: 'handler.py', export: 'handler' });
  try {
    assert.equal(form, 'lambda');
    assert.equal((await shim.request({ path: '/p' })).text(), '/p');
  } finally {
    await shim.stop();
  }
});
