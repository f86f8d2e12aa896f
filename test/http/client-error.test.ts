import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { answerClientError } from '../../src/http/client-error.js';
import { RawConnection } from '../integration/raw-connection.js';

/**
 * The platform's clientError handler on a real node server set up like the platform's (no request
 * timeout, a headers timeout), but with a headers timeout of 300 ms instead of 60 s so the test
 * does not wait a minute for Node to give up on slow headers.
 */
describe('answerClientError', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer({ connectionsCheckingInterval: 100 }, (_req, res) => res.end('served'));
    server.requestTimeout = 0;
    server.headersTimeout = 300;
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('headers that do not arrive in time: 408 REQUEST_TIMEOUT with the catalogue body, then the connection closes', async () => {
    const slow = new RawConnection(url);
    slow.write('GET / HTTP/1.1\r\nHost: nimbus.test\r\nX-Half: ');
    const answer = await slow.closed;
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(answer, /\r\nx-nimbus-error: REQUEST_TIMEOUT\r\n/i);
    assert.match(answer, /\{"error":\{"code":"REQUEST_TIMEOUT","message":"The request headers did not arrive in time\."\}\}$/);
  });

  test('malformed HTTP: 400 BAD_REQUEST', async () => {
    const bad = new RawConnection(url);
    bad.write('NOT HTTP AT ALL\r\n\r\n');
    const answer = await bad.closed;
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /"code":"BAD_REQUEST"/);
  });
});
