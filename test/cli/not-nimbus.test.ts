/** Talking to the wrong server gives one plain sentence: not Nimbus, not HTTPS, an untrusted certificate. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, runInProcess, tempDir } from './helpers.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('the wrong server', () => {
  let dir: string;
  const servers: Server[] = [];
  let plainPort: number;
  let httpsPort: number;
  before(async () => {
    dir = await tempDir();
    const plain = createServer((req, res) => {
      const html = req.url?.startsWith('/api/v1/functions') && req.method === 'GET' && req.headers['x-test'] !== '404';
      res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' });
      res.end('<html>some other site</html>');
    });
    servers.push(plain);
    plainPort = await listen(plain);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const secure = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => res.end('{}'));
    servers.push(secure as unknown as Server);
    httpsPort = await listen(secure as unknown as Server);
  });
  after(async () => {
    for (const server of servers) server.close();
    await removeDir(dir);
  });

  test('a server that is not Nimbus: said plainly, for errors and for answers that are not JSON', async () => {
    const ls = await runInProcess(['ls', '--url', `http://127.0.0.1:${plainPort}`]);
    assert.equal(ls.code, 1);
    assert.match(ls.stderr, /^Error \[NOT_NIMBUS\]: The server answered 200 with something that is not JSON, so it is not a Nimbus API: check that --url/m);
    const rm = await runInProcess(['rm', 'x', '--url', `http://127.0.0.1:${plainPort}`]);
    assert.match(rm.stderr, /^Error \[NOT_NIMBUS\]: The server answered 404 Not Found, but not as Nimbus does/m);
  });

  test('https:// to a plain HTTP server, http:// to an HTTPS one, and a self-signed certificate', async () => {
    const wrongTls = await runInProcess(['ls', '--url', `https://127.0.0.1:${plainPort}`]);
    assert.equal(wrongTls.code, 1);
    assert.match(wrongTls.stderr, new RegExp(`does not speak HTTPS: use http://127\\.0\\.0\\.1:${plainPort} instead`));
    const plainToTls = await runInProcess(['ls', '--url', `http://127.0.0.1:${httpsPort}`]);
    assert.match(plainToTls.stderr, new RegExp(`If the platform is behind HTTPS, use https://127\\.0\\.0\\.1:${httpsPort}\\.`));
    const untrusted = await runInProcess(['ls', '--url', `https://127.0.0.1:${httpsPort}`]);
    assert.match(untrusted.stderr, /TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted here \(DEPTH_ZERO_SELF_SIGNED_CERT\): add its CA with NODE_EXTRA_CA_CERTS/);
  });
});
