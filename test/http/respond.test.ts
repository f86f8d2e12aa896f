import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { NimbusError } from '../../src/core/errors.js';
import { sendError, sendJson } from '../../src/http/respond.js';

/** sendJson and sendError on a real node server, read back by a real client. */
describe('sendJson and sendError', () => {
  let server: Server;
  let url: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  before(async () => {
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function answered(handle: (res: ServerResponse) => void) {
    handler = (_req, res) => handle(res);
    const { statusCode, headers, body } = await request(url);
    return { statusCode, headers, text: await body.text() };
  }

  test('the status, the JSON body with its type and byte length, and the extra headers', async () => {
    const { statusCode, headers, text } = await answered((res) => sendJson(res, 202, { id: 'é-1', status: 'queued' }, { location: '/api/v1/invocations/e-1', 'x-extra': 'one' }));
    assert.equal(statusCode, 202);
    assert.deepEqual(JSON.parse(text), { id: 'é-1', status: 'queued' });
    assert.equal(headers['content-type'], 'application/json; charset=utf-8');
    // Bytes, not characters: é takes two.
    assert.equal(headers['content-length'], String(Buffer.byteLength(text)));
    assert.equal(Buffer.byteLength(text), text.length + 1);
    assert.equal(headers.location, '/api/v1/invocations/e-1');
    assert.equal(headers['x-extra'], 'one');
  });

  test('headers set on the response before keep their values beside the ones passed', async () => {
    const { statusCode, headers, text } = await answered((res) => {
      res.setHeader('x-nimbus-invocation-id', 'abc');
      res.setHeader('connection', 'close');
      sendError(res, new NimbusError('NOT_FOUND', 'no such thing'));
    });
    assert.equal(statusCode, 404);
    assert.equal(headers['x-nimbus-invocation-id'], 'abc');
    assert.equal(headers['x-nimbus-error'], 'NOT_FOUND');
    assert.equal(headers.connection, 'close');
    assert.equal(JSON.parse(text).error.code, 'NOT_FOUND');
  });

  test('without extra headers', async () => {
    const { statusCode, headers, text } = await answered((res) => sendJson(res, 200, [1, 2]));
    assert.equal(statusCode, 200);
    assert.equal(text, '[1,2]');
    assert.equal(headers['content-length'], '5');
  });
});
