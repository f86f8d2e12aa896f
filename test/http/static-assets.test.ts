import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { loadStaticAssets, STATIC_SECURITY_HEADERS } from '../../src/http/static-assets.js';
import { RawConnection } from '../integration/raw-connection.js';

/**
 * The dashboard's static route on a real node server: only the files of the build folder, by exact
 * name, GET and HEAD only, with the security headers on every answer (errors too), the right
 * content types, cache headers, ETag revalidation and gzip.
 */
describe('loadStaticAssets', () => {
  let server: Server;
  let url: string;
  let root: string;
  const script = `console.log(${JSON.stringify('x'.repeat(2000))});\n`;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nimbus-static-'));
    const dir = join(root, 'ui');
    await mkdir(join(dir, 'nested'), { recursive: true });
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(dir, 'app-ABC123.js'), script);
    await writeFile(join(dir, 'app-ABC123.css'), 'body{}');
    await writeFile(join(dir, 'notes.txt'), 'not a served type');
    await writeFile(join(dir, 'nested', 'deep.js'), 'nested');
    await writeFile(join(root, 'secret.js'), 'outside the build folder');
    await symlink(join(root, 'secret.js'), join(dir, 'link.js'));
    const assets = await loadStaticAssets(dir, { prefix: '/ui' });
    server = createServer((req, res) => assets.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(root, { recursive: true, force: true });
  });

  function assertSecurityHeaders(headers: Record<string, string | string[] | undefined>): void {
    for (const [name, value] of Object.entries(STATIC_SECURITY_HEADERS)) assert.equal(headers[name], value, name);
  }

  test('the index at /ui and /ui/: HTML, no-cache, the security headers', async () => {
    for (const path of ['/ui', '/ui/', '/ui/?x=1']) {
      const res = await request(`${url}${path}`);
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assertSecurityHeaders(res.headers);
      assert.equal(await res.body.text(), '<!doctype html><title>t</title>');
    }
  });

  test('the CSP allows no inline script and nothing from elsewhere, and forbids framing', () => {
    const csp = STATIC_SECURITY_HEADERS['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(STATIC_SECURITY_HEADERS['x-frame-options'], 'DENY');
    assert.equal(STATIC_SECURITY_HEADERS['x-content-type-options'], 'nosniff');
  });

  test('hashed assets: their content type, cached for a year, gzip when asked for, 304 on a matching ETag', async () => {
    const plain = await request(`${url}/ui/app-ABC123.js`);
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(await plain.body.text(), script);
    const etag = plain.headers.etag as string;
    assert.match(etag, /^"[\w-]+"$/);

    const gzipped = await request(`${url}/ui/app-ABC123.js`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.equal(gzipped.headers.vary, 'accept-encoding');
    const body = Buffer.from(await gzipped.body.arrayBuffer());
    assert.ok(body.length < script.length);
    assert.equal(gunzipSync(body).toString(), script);

    const css = await request(`${url}/ui/app-ABC123.css`);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    await css.body.dump();

    const again = await request(`${url}/ui/app-ABC123.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(await again.body.text(), '');
  });

  test('HEAD answers the headers without a body', async () => {
    const res = await request(`${url}/ui/app-ABC123.js`, { method: 'HEAD' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(script)));
    assert.equal(await res.body.text(), '');
  });

  test('other methods: 405 METHOD_NOT_ALLOWED with Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await request(`${url}/ui/app-ABC123.js`, { method, body: method === 'POST' || method === 'PUT' ? 'x' : null });
      assert.equal(res.statusCode, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD');
      assert.equal(res.headers['x-nimbus-error'], 'METHOD_NOT_ALLOWED');
      assertSecurityHeaders(res.headers);
      await res.body.dump();
    }
  });

  test('unknown names, files of other types, subfolders and symlinks: 404 NOT_FOUND with the security headers', async () => {
    for (const path of ['/ui/missing.js', '/ui/notes.txt', '/ui/nested/deep.js', '/ui/link.js', '/ui/index.html/x', '/uiapp-ABC123.js']) {
      const res = await request(`${url}${path}`);
      assert.equal(res.statusCode, 404, path);
      assert.equal(res.headers['x-nimbus-error'], 'NOT_FOUND');
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assertSecurityHeaders(res.headers);
      await res.body.dump();
    }
  });

  test('no path traversal: dot segments, encoded or not, reach nothing outside the folder', async () => {
    for (const path of ['/ui/../secret.js', '/ui/%2e%2e/secret.js', '/ui/..%2fsecret.js', '/ui/%2E%2E%2Fsecret.js', '/ui/./app-ABC123.js', '/ui//app-ABC123.js', '/ui/..\\secret.js']) {
      const raw = new RawConnection(url);
      raw.write(`GET ${path} HTTP/1.1\r\nHost: nimbus.test\r\nConnection: close\r\n\r\n`);
      await raw.waitFor(/\r\n\r\n[\s\S]*\}$/);
      const answer = raw.text();
      raw.destroy();
      assert.match(answer, /^HTTP\/1\.1 404 /, path);
      assert.doesNotMatch(answer, /outside the build folder/, path);
    }
  });

  test('a folder that does not exist serves nothing and says the dashboard is not built', async () => {
    const assets = await loadStaticAssets(join(root, 'no-such-folder'), { prefix: '/ui' });
    assert.deepEqual(assets.paths(), []);
    const missing = createServer((req, res) => assets.handle(req, res));
    await new Promise<void>((resolve) => missing.listen(0, '127.0.0.1', resolve));
    try {
      const res = await request(`http://127.0.0.1:${(missing.address() as AddressInfo).port}/ui/`);
      assert.equal(res.statusCode, 404);
      assert.match(await res.body.text(), /not built: run npm run build/);
    } finally {
      await new Promise<void>((resolve) => missing.close(() => resolve()));
    }
  });
});
