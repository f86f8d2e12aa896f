import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startFunction } from './shim-harness.js';

// The shim hands handlers a lightweight Request that builds the real one only when needed;
// handlers must not be able to tell, including when they pass it on to Request or fetch.
const HANDLER = `module.exports = async (request) => {
  const path = new URL(request.url).pathname;
  switch (path) {
    case '/identity': return Response.json({
      isRequest: request instanceof Request,
      nativeIsRequest: new Request('http://x/') instanceof Request,
      tag: Object.prototype.toString.call(request),
      method: request.method,
      url: request.url,
      header: request.headers.get('x-test'),
      signalIsSignal: request.signal instanceof AbortSignal,
      aborted: request.signal.aborted,
      name: Request.name,
    });
    case '/json': {
      const data = await request.json();
      return Response.json({ data, bodyUsed: request.bodyUsed });
    }
    case '/clone': {
      const copy = request.clone();
      return Response.json({ a: await request.text(), b: await copy.text() });
    }
    case '/rebuild': {
      request.headers.set('x-added', 'yes');
      const rebuilt = new Request(request, { headers: { 'x-other': '1', 'x-added': request.headers.get('x-added') } });
      return Response.json({ method: rebuilt.method, url: rebuilt.url, added: rebuilt.headers.get('x-added'), body: await rebuilt.text() });
    }
    case '/forward': {
      const upstream = await fetch(new Request(process.env.UPSTREAM + '/echo', request));
      const direct = await fetch(process.env.UPSTREAM + '/echo', { method: 'POST', body: 'direct' });
      return Response.json({ viaRequest: await upstream.text(), direct: await direct.text() });
    }
    case '/fetch-light': {
      const res = await fetch(request);
      return new Response(await res.text());
    }
    default: return new Response('nope', { status: 404 });
  }
};`;

let upstream: Server;
let upstreamUrl: string;

before(async () => {
  // A plain HTTP server on loopback standing in for whatever a function calls.
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`${req.method} ${req.url} ${req.headers['x-test'] ?? '-'} ${Buffer.concat(chunks).toString()}`));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
after(() => upstream.close());

test('the lightweight Request behaves like the real one', async () => {
  const { shim } = await startFunction('node', { 'h.cjs': HANDLER }, { entry: 'h.cjs', env: { UPSTREAM: upstreamUrl } });
  try {
    const identity = JSON.parse((await shim.request({ path: '/identity?q=1', headers: { 'x-test': 'present', host: 'fn.example' } })).body.toString());
    assert.deepEqual(identity, {
      isRequest: true,
      nativeIsRequest: true,
      tag: '[object Request]',
      method: 'GET',
      url: 'http://fn.example/identity?q=1',
      header: 'present',
      signalIsSignal: true,
      aborted: false,
      name: 'Request',
    });

    const json = await shim.request({ method: 'POST', path: '/json', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
    assert.deepEqual(JSON.parse(json.body.toString()), { data: { a: [1, 2] }, bodyUsed: true });

    const clone = await shim.request({ method: 'PUT', path: '/clone', body: 'twice' });
    assert.deepEqual(JSON.parse(clone.body.toString()), { a: 'twice', b: 'twice' });

    const rebuilt = await shim.request({ method: 'POST', path: '/rebuild', body: 'carried' });
    assert.deepEqual(JSON.parse(rebuilt.body.toString()), { method: 'POST', url: 'http://localhost/rebuild', added: 'yes', body: 'carried' });

    const forward = await shim.request({ method: 'POST', path: '/forward', headers: { 'x-test': 'fwd' }, body: 'payload' });
    assert.deepEqual(JSON.parse(forward.body.toString()), { viaRequest: 'POST /echo fwd payload', direct: 'POST /echo - direct' });

    // fetch(request) itself: the Host makes the request's URL point at the upstream server.
    const host = new URL(upstreamUrl).host;
    const fetched = await shim.request({ method: 'POST', path: '/fetch-light', headers: { host, 'x-test': 'as-is' }, body: 'same body' });
    assert.equal(fetched.body.toString(), 'POST /fetch-light as-is same body');
  } finally {
    await shim.stop();
  }
});
