/** User code for the Node shim tests, one handler form per fixture. */

/** Web-standard function default export (CJS): echoes the request. */
export const WEB_ECHO = `
module.exports = async function echo(request, env, ctx) {
  const body = new Uint8Array(await request.arrayBuffer());
  return new Response(body, {
    status: 201,
    headers: {
      'x-method': request.method,
      'x-url': request.url,
      'x-custom': request.headers.get('x-custom') ?? '',
      'x-has-body': String(request.body !== null),
      'x-id': ctx.invocationId,
    },
  });
};
`;

/** Web-standard object with fetch (ESM, like a Hono app): uses this, env and ctx. */
export const WEB_OBJECT = `
console.log('module loaded');
class App {
  constructor() { this.greeting = 'hello'; }
  async fetch(request, env, ctx) {
    return Response.json({ greeting: this.greeting, env: env.GREETING, processEnv: process.env.GREETING, id: ctx.invocationId, cwd: process.cwd() });
  }
}
export default new App();
`;

/**
 * A handler that answers without a promise (the shim's synchronous path): each outcome the async
 * routes have, plus a thenable that is not a Promise.
 */
export const WEB_SYNC_ROUTES = `
module.exports.default = (request) => {
  const path = new URL(request.url).pathname;
  console.log('sync ' + path);
  switch (path) {
    case '/ok':
      return new Response('sync ok', { status: 202, headers: { 'x-form': 'sync' } });
    case '/throw':
      throw new TypeError('sync boom');
    case '/not-response':
      return 42;
    case '/bad-header':
      return new Response('x', { headers: { 'x-bad': 'line\\nbreak' } });
    case '/stream':
      return new Response(new ReadableStream({ pull(c) { c.enqueue(new TextEncoder().encode('a')); c.enqueue(new TextEncoder().encode('b')); c.close(); } }));
    case '/stream-error':
      return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('part')); }, pull() { return new Promise((_, reject) => setTimeout(() => reject(new Error('stream broke')), 10)); } }));
    case '/thenable':
      return { then(resolve) { setTimeout(() => resolve(new Response('from thenable')), 5); } };
    case '/thenable-reject':
      return { then(_, reject) { reject(new Error('thenable says no')); } };
  }
  return new Response('?', { status: 404 });
};
`;

/** Web-standard routes exercising response mapping, errors, streaming, aborts and logs. */
export const WEB_ROUTES = `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let release;
const released = new Promise((r) => { release = r; });
module.exports.default = async (request, env, ctx) => {
  const url = new URL(request.url);
  const name = url.searchParams.get('name');
  switch (url.pathname) {
    case '/cookies':
      return new Response('c', { headers: [['set-cookie', 'a=1; Path=/'], ['set-cookie', 'b=2'], ['x-other', 'y']] });
    case '/throw':
      throw new RangeError('web boom');
    case '/not-response':
      return { hello: 'world' };
    case '/stream':
      return new Response(new ReadableStream({
        async start(c) { c.enqueue(new TextEncoder().encode('first;')); await released; c.enqueue(new TextEncoder().encode('second')); c.close(); },
      }));
    case '/release':
      release();
      return new Response('released');
    case '/abort':
      console.log('waiting for abort');
      await new Promise((r) => request.signal.addEventListener('abort', r));
      console.log('aborted');
      return new Response('too late');
    case '/logs':
      console.log('begin ' + name);
      await sleep(30);
      process.stdout.write('partial ' + name);
      await sleep(30);
      process.stdout.write(' end\\n');
      console.error('err ' + name);
      process.stdout.write('tail ' + name);
      return new Response('ok');
    case '/long-line':
      console.log('x'.repeat(40000));
      return new Response('ok');
    case '/wait-until':
      ctx.waitUntil(sleep(20).then(() => console.log('background done')));
      return new Response('answered');
    case '/slow':
      console.log('started');
      await sleep(300);
      return new Response('done');
    case '/crash':
      setTimeout(() => { throw new Error('crash later'); }, 1);
      return new Response('crashing');
    default:
      return new Response('not found', { status: 404 });
  }
};
`;

/** Lambda-style routes (CJS, \`exports.handler\`). */
export const LAMBDA_ROUTES = `
exports.handler = async (event, context) => {
  switch (event.rawPath) {
    case '/event':
      return { event, context: { ...context, remaining: context.getRemainingTimeInMillis() } };
    case '/binary':
      return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: event.body, isBase64Encoded: event.isBase64Encoded };
    case '/string':
      return 'plain text';
    case '/object':
      return { a: 1, nested: [true, null] };
    case '/array':
      return [1, 2, 3];
    case '/number':
      return 42;
    case '/none':
      return undefined;
    case '/status':
      return {
        statusCode: 202,
        headers: { 'x-one': '1', 'content-type': 'text/plain' },
        multiValueHeaders: { 'x-multi': ['a', 'b'] },
        cookies: ['a=1; Path=/', 'b=2'],
        body: Buffer.from('decoded body').toString('base64'),
        isBase64Encoded: true,
      };
    case '/throw':
      throw new TypeError('lambda boom');
    case '/bad-status':
      return { statusCode: 'abc' };
    default:
      return { statusCode: 404, body: 'no route' };
  }
};
`;

/** Callback-style Lambda handler. */
export const LAMBDA_CALLBACK = `
exports.handler = function (event, context, callback) {
  if (event.rawPath === '/fail') return setTimeout(() => callback(new Error('callback failed')), 5);
  setTimeout(() => callback(null, { statusCode: 203, body: 'from callback ' + context.functionName }), 5);
};
exports.other = async () => 'named export';
`;
