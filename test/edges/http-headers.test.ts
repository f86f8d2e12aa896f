import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { forwardedHeaders } from '../../src/edges/http-headers.js';

/** forwardedHeaders on requests a real client sent to a real node server. */
describe('forwardedHeaders', () => {
  let server: Server;
  let url: string;
  let seen: (req: IncomingMessage) => void = () => undefined;
  before(async () => {
    server = createServer((req, res) => {
      seen(req);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function received(headers: Record<string, string>, omit?: string): Promise<Record<string, string | string[]>> {
    let forwarded: Record<string, string | string[]> | undefined;
    seen = (req) => (forwarded = forwardedHeaders(req, 'hello', omit));
    await (await request(`${url}/fn/hello`, { headers })).body.dump();
    return forwarded!;
  }

  test("the client's headers, without hop-by-hop ones and x-nimbus-*, with the forwarding ones", async () => {
    const headers = await received({ 'content-type': 'application/json', prefer: 'respond-async', 'x-nimbus-deadline': '1', 'x-forwarded-for': '10.0.0.1' });
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers.prefer, 'respond-async');
    assert.equal(headers['x-nimbus-deadline'], undefined);
    assert.equal(headers.connection, undefined);
    assert.equal(headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-prefix'], '/fn/hello');
    assert.match(String(headers.host), /^127\.0\.0\.1:\d+$/);
  });

  test('omits the header the platform acted on, and only that one', async () => {
    const headers = await received({ 'content-type': 'application/json', prefer: 'respond-async' }, 'prefer');
    assert.equal('prefer' in headers, false);
    assert.equal(headers['content-type'], 'application/json');
  });
});
