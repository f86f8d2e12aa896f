/**
 * The node:http handler form (`(req, res)` functions, apps that call listen()) and the OpenFaaS
 * node template form, against the real shim. Frameworks themselves (Express) are tested end to
 * end in test/integration/node-forms.test.ts.
 */
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { freePort } from '../integration/harness.js';
import { test } from 'node:test';
import { startFunction } from './shim-harness.js';


/** Whether something accepts connections on 127.0.0.1:port. */
function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const REQ_RES = `
module.exports = function handler(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(202, { 'content-type': 'application/json', 'x-form': 'node' });
    res.end(JSON.stringify({ method: req.method, url: req.url, custom: req.headers['x-custom'], body: Buffer.concat(chunks).toString(), id: req.headers['x-nimbus-invocation-id'] }));
  });
};
`;

test('(req, res) function: node:http request and response, streamed body, invocation id', async () => {
  const { shim, form } = await startFunction('node', { 'index.js': REQ_RES }, { entry: 'index.js' });
  try {
    assert.equal(form, 'node');
    const res = await shim.request({ method: 'POST', path: '/a/b?x=1', headers: { 'x-custom': 'yes' }, body: 'payload', id: 'inv-7' });
    assert.equal(res.status, 202);
    assert.equal(res.headers['x-form'], 'node');
    assert.deepEqual(res.json(), { method: 'POST', url: '/a/b?x=1', custom: 'yes', body: 'payload', id: 'inv-7' });
    // The instance's concurrency accounting sees the invocation end (health reports none in flight).
    const health = await shim.request({ path: '/__nimbus/health' });
    assert.equal(health.json().inflight, 0);
  } finally {
    await shim.stop();
  }
});

test('(req, res): a throw before answering is HANDLER_ERROR; an async rejection too; logs carry the id', async () => {
  const code = `
module.exports = async (req, res) => {
  if (req.url === '/sync') { console.log('about to fail'); throw new Error('broken handler'); }
  await new Promise((r) => setTimeout(r, 5));
  throw new TypeError('async failure');
};`;
  const { shim } = await startFunction('node', { 'index.js': code }, { entry: 'index.js' });
  try {
    for (const [path, message] of [['/sync', 'broken handler'], ['/async', 'async failure']] as const) {
      const res = await shim.request({ path, id: `inv${path.replace('/', '-')}` });
      assert.equal(res.status, 500);
      assert.equal(res.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
      assert.match(res.text(), new RegExp(message));
    }
    assert.deepEqual(shim.lines('inv-sync'), ['about to fail']);
  } finally {
    await shim.stop();
  }
});

test('an app that calls listen(PORT) runs unmodified, and binds no port', async () => {
  const port = await freePort();
  const code = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('served by ' + server.address().port + ' at ' + req.url));
server.listen(process.env.PORT, () => console.log('listening on ' + server.address().port));
`;
  const { shim, form } = await startFunction('node', { 'server.js': code }, { entry: 'server.js', env: { PORT: String(port) } });
  try {
    assert.equal(form, 'node');
    assert.equal((await shim.request({ path: '/hello' })).text(), `served by ${port} at /hello`);
    assert.equal(await accepting(port), false, 'nothing listens on the port the app asked for');
    assert.deepEqual(shim.lines(null), [`listening on ${port}`]);
  } finally {
    await shim.stop();
  }
});

test('an app that listens a little later (after its set-up) is waited for; without PORT it gets one', async () => {
  const code = `
const http = require('node:http');
setTimeout(() => http.createServer((req, res) => res.end('late ' + process.env.PORT)).listen(Number(process.env.PORT)), 150);
`;
  const { shim, form } = await startFunction('node', { 'late.js': code }, { entry: 'late.js' });
  try {
    assert.equal(form, 'node');
    assert.equal((await shim.request({})).text(), 'late 8080');
  } finally {
    await shim.stop();
  }
});

test('a module with no handler and no server is refused, naming every accepted form', async () => {
  const { startShim, writeFixtures } = await import('./shim-harness.js');
  const shim = await startShim('node');
  try {
    const codeDir = writeFixtures({ 'nothing.js': 'module.exports = { answer: 42 };' });
    shim.tempDirs.push(codeDir);
    const res = await shim.init({ codeDir, entry: 'nothing.js' });
    assert.equal(res.status, 500);
    assert.equal(res.json().error.code, 'HANDLER_NOT_FOUND');
    assert.match(res.json().error.message, /fetch handler.*\(req, res\) function or app \(Express, Koa, Fastify\).*"handler".*app\.listen\(\)/);
  } finally {
    await shim.stop();
  }
});

const OPENFAAS = `
module.exports = async (event, context) => {
  if (event.path === '/fail') return context.status(422).fail('not acceptable');
  if (event.path === '/plain') return 'just text';
  if (event.path === '/throw') throw new Error('thrown in handler');
  return context
    .status(201)
    .headers({ 'content-type': 'application/json', 'x-template': 'node20' })
    .succeed({ method: event.method, path: event.path, query: event.query, body: event.body, type: typeof event.body, host: event.headers['x-custom'] });
};
`;

test('OpenFaaS node template: event, chained context, succeed, fail, a returned value, a throw', async () => {
  const { shim, form } = await startFunction('node', { 'handler.js': OPENFAAS, 'package.json': '{"name":"fn"}' }, { entry: 'handler.js' });
  try {
    assert.equal(form, 'openfaas');
    const json = await shim.request({ method: 'POST', path: '/items?a=1&a=2&b=x', headers: { 'content-type': 'application/json', 'x-custom': 'c' }, body: '{"n":1}' });
    assert.equal(json.status, 201);
    assert.equal(json.headers['x-template'], 'node20');
    assert.deepEqual(json.json(), { method: 'POST', path: '/items', query: { a: ['1', '2'], b: 'x' }, body: { n: 1 }, type: 'object', host: 'c' });
    const text = await shim.request({ method: 'POST', path: '/t', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(text.json().body, 'hello');
    const failed = await shim.request({ path: '/fail' });
    assert.equal(failed.status, 422);
    assert.equal(failed.text(), 'not acceptable');
    const plain = await shim.request({ path: '/plain' });
    assert.equal(plain.status, 200);
    assert.equal(plain.text(), 'just text');
    const thrown = await shim.request({ path: '/throw' });
    assert.equal(thrown.status, 500);
    assert.equal(thrown.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
    const bad = await shim.request({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: '{oops' });
    assert.equal(bad.status, 400);
  } finally {
    await shim.stop();
  }
});

test('forms are told apart by parameter names: (request, env) stays Web-standard', async () => {
  const { shim, form } = await startFunction('node', { 'w.js': 'module.exports = (request, env) => new Response("web " + request.method);' }, { entry: 'w.js' });
  try {
    assert.equal(form, 'web');
    assert.equal((await shim.request({})).text(), 'web GET');
  } finally {
    await shim.stop();
  }
});
