import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFunction } from './shim-harness.js';

// The shim installs a lightweight global Response; handlers must not be able to tell.
const HANDLER = `module.exports = async (request) => {
  const path = new URL(request.url).pathname;
  switch (path) {
    case '/text': return new Response('plain');
    case '/json': return Response.json({ a: 1 }, { status: 201, headers: { 'x-a': '1' } });
    case '/bytes': return new Response(new Uint8Array([0, 255, 1]), { headers: [['set-cookie', 'a=1'], ['set-cookie', 'b=2']] });
    case '/empty': return new Response(null, { status: 204 });
    case '/mutated': { const r = new Response('m', { headers: { 'x-first': '1' } }); r.headers.set('x-later', '2'); return r; }
    case '/status-text': return new Response('t', { status: 299, statusText: 'Fine Enough' });
    case '/null-body-status': return new Response('not allowed', { status: 204 });
    case '/identity': {
      const light = new Response('abc');
      const copy = light.clone();
      return Response.json({
        lightIsResponse: light instanceof Response,
        realIsResponse: Response.error() instanceof Response,
        text: await copy.text(),
        bodyUsed: copy.bodyUsed,
        ok: light.ok,
        type: light.type,
        name: Response.name,
      });
    }
    default: return new Response('nope', { status: 404 });
  }
};`;

test('the lightweight Response behaves like the real one', async () => {
  const { shim } = await startFunction('node', { 'h.cjs': HANDLER }, { entry: 'h.cjs' });
  try {
    const text = await shim.request({ path: '/text' });
    assert.equal(text.status, 200);
    assert.equal(text.body.toString(), 'plain');
    assert.equal(text.headers['content-type'], 'text/plain;charset=UTF-8');
    assert.equal(text.headers['content-length'], '5');

    const json = await shim.request({ path: '/json' });
    assert.equal(json.status, 201);
    assert.deepEqual(json.json(), { a: 1 });
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal(json.headers['x-a'], '1');

    const bytes = await shim.request({ path: '/bytes' });
    assert.deepEqual([...bytes.body], [0, 255, 1]);
    assert.equal(bytes.headers['content-type'], undefined);
    assert.deepEqual(bytes.headers['set-cookie'], ['a=1', 'b=2']);

    const empty = await shim.request({ path: '/empty' });
    assert.equal(empty.status, 204);
    assert.equal(empty.body.length, 0);

    const mutated = await shim.request({ path: '/mutated' });
    assert.equal(mutated.headers['x-first'], '1');
    assert.equal(mutated.headers['x-later'], '2');

    const statusText = await shim.request({ path: '/status-text' });
    assert.equal(statusText.status, 299);
    assert.equal(statusText.body.toString(), 't');

    // The real constructor's validation still applies.
    const invalid = await shim.request({ path: '/null-body-status' });
    assert.equal(invalid.status, 500);
    assert.equal(invalid.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');

    assert.deepEqual((await shim.request({ path: '/identity' })).json(), {
      lightIsResponse: true,
      realIsResponse: true,
      text: 'abc',
      bodyUsed: true,
      ok: true,
      type: 'default',
      name: 'Response',
    });
  } finally {
    await shim.stop();
  }
});
