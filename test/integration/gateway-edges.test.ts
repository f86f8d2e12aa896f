/** What the gateway promises at its edges (docs/api.md): bodies, forwarding headers, the instance environment. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { deploy, invoke, startPlatform, type TestPlatform } from './harness.js';
import { HOLD_UNTIL_BODY_ENDS, RawConnection } from './raw-connection.js';

/** Answers what the function sees: forwarding headers, its environment, the body size. */
const MIRROR = {
  file: 'index.js',
  content: `import { writeFileSync, readFileSync } from 'node:fs';
export default async (req) => {
  const body = await req.arrayBuffer();
  const probe = process.env.HOME + '/nimbus-home-probe';
  writeFileSync(probe, 'written');
  return Response.json({
    bytes: body.byteLength,
    forwardedFor: req.headers.get('x-forwarded-for'),
    forwardedProto: req.headers.get('x-forwarded-proto'),
    forwardedPrefix: req.headers.get('x-forwarded-prefix'),
    lang: process.env.LANG,
    home: process.env.HOME,
    homeWritable: readFileSync(probe, 'utf8') === 'written',
  });
};`,
};

const SIX_MB = 6 * 1024 * 1024;

describe('gateway edges', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform();
    await deploy(platform.url, 'mirror', MIRROR);
    await deploy(platform.url, 'hold', HOLD_UNTIL_BODY_ENDS);
  });
  after(() => platform.close());

  const mirror = async (options: Parameters<typeof invoke>[2] = {}) => {
    const res = await invoke(platform.url, 'mirror', options);
    assert.equal(res.status, 200, res.text);
    return JSON.parse(res.text) as Record<string, unknown>;
  };

  test('a request body reaches the function and the platform logs no error on the way', async () => {
    assert.equal((await mirror({ body: 'seven b' })).bytes, 7);
    // Every request with a body once made the gateway log a TypeError after answering.
    assert.deepEqual(platform.guard.errors, []);
  });

  test('x-forwarded-for gets the client address appended; x-forwarded-proto defaults to http and is kept when sent', async () => {
    const plain = await mirror();
    assert.equal(plain.forwardedFor, '127.0.0.1');
    assert.equal(plain.forwardedProto, 'http');
    assert.equal(plain.forwardedPrefix, '/fn/mirror');
    const proxied = await mirror({ headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' } });
    assert.equal(proxied.forwardedFor, '203.0.113.7, 127.0.0.1');
    assert.equal(proxied.forwardedProto, 'https');
  });

  test('the instance environment has LANG=C.UTF-8 and a writable HOME of its own', async () => {
    const env = await mirror();
    assert.equal(env.lang, 'C.UTF-8');
    assert.equal(env.homeWritable, true);
    assert.notEqual(env.home, process.env['HOME'], "not the platform's home");
    if (platform.server.sandbox === 'bubblewrap') assert.equal(env.home, '/tmp', 'HOME=/tmp in the sandbox (docs/isolation.md)');
  });

  test('the default body limit is 6 MB: exactly 6 MB passes, one byte more is 413 PAYLOAD_TOO_LARGE', async () => {
    assert.equal((await mirror({ body: Buffer.alloc(SIX_MB) })).bytes, SIX_MB);
    const declared = await invoke(platform.url, 'mirror', { body: Buffer.alloc(SIX_MB + 1) });
    assert.equal(declared.status, 413);
    assert.equal(declared.headers['x-nimbus-error'], 'PAYLOAD_TOO_LARGE');
    // Streamed without a length: cut when the count passes the limit.
    const chunks = Readable.from(Array.from({ length: 7 }, () => Buffer.alloc(1024 * 1024)));
    const streamed = await request(`${platform.url}/fn/mirror`, { method: 'POST', body: chunks });
    assert.equal(streamed.statusCode, 413);
    assert.equal(streamed.headers['x-nimbus-error'], 'PAYLOAD_TOO_LARGE');
    await streamed.body.dump();
  });

  test('small bodies sent whole and pipelined on one connection each reach their own invocation', async () => {
    // Up to 16 KiB, a body that came with its head goes to the instance in one piece (docs/api.md).
    const sizes = [1, 16 * 1024, 16 * 1024 + 1, 300];
    const raw = new RawConnection(platform.url);
    try {
      raw.write(sizes.map((size) => `POST /fn/mirror HTTP/1.1\r\nHost: nimbus.test\r\nContent-Length: ${size}\r\n\r\n${'x'.repeat(size)}`).join(''));
      await raw.waitFor(new RegExp(sizes.map((size) => `"bytes":${size},[^]*`).join('')));
      assert.equal(raw.text().match(/HTTP\/1\.1 200 /g)?.length, sizes.length);
    } finally {
      raw.destroy();
    }
  });

  test('a small body still arriving streams: the function starts before the client sends the rest', async () => {
    const raw = new RawConnection(platform.url);
    try {
      raw.write('POST /fn/hold HTTP/1.1\r\nHost: nimbus.test\r\nContent-Length: 10\r\n\r\nabcde');
      // The function answers 'started;' only once it runs: the gateway did not wait for the body.
      await raw.waitFor(/started;/);
      raw.write('fghij');
      await raw.waitFor(/finished after 10 bytes/);
    } finally {
      raw.destroy();
    }
  });
});
