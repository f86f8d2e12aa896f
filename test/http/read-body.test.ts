import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import { readBody, WHOLE_BODY_BYTES } from '../../src/http/read-body.js';
import { sendError, sendJson } from '../../src/http/respond.js';
import { RawConnection } from '../integration/raw-connection.js';

const LIMIT = 64 * 1024;

/**
 * readBody on a real node server: the handler answers `started;` at once (so a test knows the
 * server is reading before it sends the rest of a body), then, in a chunk of its own,
 * `<bytes> <the first 20 bytes> ended=<whether the request stream ended>;` or the error code.
 */
describe('readBody', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((req, res) => void answer(req, res));
    server.requestTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url === '/as-the-platform') {
      // As the platform's callers of readBody answer: a catalogue error, closing the connection
      // when the body was not all read.
      try {
        sendJson(res, 200, { bytes: (await readBody(req, LIMIT)).length });
      } catch (err) {
        if (!req.complete) res.setHeader('connection', 'close');
        sendError(res, err);
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('started;');
    try {
      const body = await readBody(req, LIMIT);
      // The stream must still end (the next request on the connection depends on it).
      if (!req.readableEnded) await new Promise((resolve) => req.once('end', resolve));
      res.end(`${body.length} ${body.subarray(0, 20).toString('latin1')} ended=${req.readableEnded};`);
    } catch (err) {
      res.end(`error ${isNimbusError(err) ? err.code : String(err)};`);
    }
  }

  const post = (body: string, headers = `Content-Length: ${body.length}\r\n`) => `POST / HTTP/1.1\r\nHost: nimbus.test\r\n${headers}\r\n${body}`;

  test('small bodies sent with their heads, pipelined on one connection, each read whole and ended', async () => {
    const sizes = [1, 300, WHOLE_BODY_BYTES, WHOLE_BODY_BYTES + 1, 0];
    const raw = new RawConnection(url);
    try {
      raw.write(sizes.map((size) => post('y'.repeat(size))).join(''));
      // Each answer is chunked: `started;`, then the outcome, in a chunk of its own.
      await raw.waitFor(new RegExp(sizes.map((size) => `\\r\\n${size} y{${Math.min(size, 20)}} ended=true;\\r\\n[^]*`).join('')));
    } finally {
      raw.destroy();
    }
  });

  /** Sends `head` (with the body's first part), waits until the server reads, then sends `rest`. */
  async function inTwoParts(head: string, rest: string, answer: RegExp): Promise<void> {
    const raw = new RawConnection(url);
    try {
      raw.write(head);
      await raw.waitFor(/started;/);
      raw.write(rest);
      await raw.waitFor(answer);
    } finally {
      raw.destroy();
    }
  }

  test('a body that arrives in two parts is read whole once the rest comes', () =>
    inTwoParts(post('abcde', 'Content-Length: 10\r\n'), 'fghij', /\r\n10 abcdefghij ended=true;\r\n/));

  test('chunked bodies are read to their end', () =>
    inTwoParts(post('3\r\nabc\r\n', 'Transfer-Encoding: chunked\r\n'), '2\r\nde\r\n0\r\n\r\n', /\r\n5 abcde ended=true;\r\n/));

  test('over the limit: 413 PAYLOAD_TOO_LARGE, declared or counted, and the connection closes', async () => {
    const declared = new RawConnection(url);
    const chunked = new RawConnection(url);
    try {
      declared.write(post('', `Content-Length: ${LIMIT + 1}\r\n`));
      await declared.waitFor(/\r\nerror PAYLOAD_TOO_LARGE;\r\n/);
      // Counted while read: the reading stops, the 413 is still sent, then the connection closes.
      const chunk = 'z'.repeat(32 * 1024);
      chunked.write(`POST /as-the-platform HTTP/1.1\r\nHost: nimbus.test\r\nTransfer-Encoding: chunked\r\n\r\n${`${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(3)}`);
      const answer = await chunked.closed;
      assert.match(answer, /^HTTP\/1\.1 413 /);
      assert.match(answer, /\r\nx-nimbus-error: PAYLOAD_TOO_LARGE\r\n/i);
      assert.match(answer, /\r\nconnection: close\r\n/i);
    } finally {
      declared.destroy();
      chunked.destroy();
    }
  });
});
