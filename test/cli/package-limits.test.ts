/**
 * The CLI checks a package against the platform's limits (GET /api/v1/limits) before uploading:
 * one sentence with the size, the limit and how to shrink, and nothing sent. A platform that
 * predates the route (404) is deployed to as before.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageTooLarge } from '../../src/cli/upload.js';
import { api, startPlatform, type TestPlatform } from '../integration/harness.js';
import { removeDir, runInProcess, tempDir, writeTree } from './helpers.js';

const HELLO = 'export default () => new Response("hi");\n';
const LIMITS = { maxCompressedBytes: 64 * 1024, maxUnpackedBytes: 512 * 1024, maxEntries: 40 };

describe('package limits, on a platform with small ones', () => {
  let platform: TestPlatform;
  let dir: string;
  before(async () => {
    platform = await startPlatform({ packageLimits: LIMITS, maxBodyBytes: 123_456 });
    dir = await tempDir();
    await writeTree(dir, {
      'big/index.js': HELLO,
      // Random bytes do not compress: the archive is over 64 KB.
      'big/model.bin': randomBytes(100 * 1024),
      'wide/index.js': HELLO,
      ...Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`wide/data/${i}.txt`, 'x'])),
      'fits/index.js': HELLO,
    });
  });
  after(async () => {
    await platform?.close();
    if (dir) await removeDir(dir);
  });
  const run = (args: string[]) => runInProcess([...args, '--url', platform.url], { cwd: dir, env: { NIMBUS_TOKEN: platform.token } });
  const uploads = () => {
    const packages = join(platform.dataDir, 'packages');
    return existsSync(packages) ? readdirSync(packages).filter((name) => /^[0-9a-f]{64}$/.test(name)) : [];
  };

  test('GET /api/v1/limits answers the limits in bytes, to a read token', async () => {
    const token = (await api(platform.url, 'POST', '/api/v1/tokens', { name: 'reader', scope: 'read' })).json!.token as string;
    const res = await api(platform.url, 'GET', '/api/v1/limits', undefined, { token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { package: { maxBytes: 65_536, maxUnpackedBytes: 524_288, maxEntries: 40 }, invokeBodyBytes: 123_456, apiBodyBytes: 1_048_576 });
    assert.equal((await api(platform.url, 'GET', '/api/v1/limits', undefined, { token: null })).status, 401);
  });

  test('a folder over the upload limit is refused before uploading, in one sentence', async () => {
    const before = uploads();
    const r = await run(['deploy', 'big']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: big packs to 1\d\d(\.\d)? KB \(2 files\), over the platform's upload limit of 64 KB\. Deploy a folder with only what the function needs at run time: .*npm prune --omit=dev/m);
    assert.doesNotMatch(r.stderr, /ARCHIVE_TOO_LARGE|413/);
    assert.deepEqual(uploads(), before, 'nothing was uploaded');
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/big')).status, 404);
  });

  test('a folder with more entries than allowed is refused before uploading', async () => {
    const r = await run(['deploy', 'wide']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: wide has 47 files and folders, over the platform's limit of 40\. Deploy a folder/m);
  });

  test('a folder within the limits deploys', async () => {
    const r = await run(['deploy', 'fits']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deployed fits/);
  });
});

describe('package limits, on a platform without GET /api/v1/limits', () => {
  let server: Server;
  let url: string;
  let dir: string;
  const seen: string[] = [];
  before(async () => {
    // What a platform older than the route answers: 404 NOT_FOUND for it, and the rest as usual.
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        };
        if (req.url === '/api/v1/packages') return send(201, { sha256: 'a'.repeat(64), size: 10, format: 'tar.gz', files: 1, unpackedBytes: 40 });
        if (req.method === 'PUT' && req.url === '/api/v1/functions/old') {
          return send(201, { name: 'old', runtime: 'node', handler: 'index.js', version: 1, url: `${url}/fn/old`, auth: 'public' });
        }
        send(404, { error: { code: 'NOT_FOUND', message: `No API route ${req.method} ${req.url}.` } }, { 'x-nimbus-error': 'NOT_FOUND' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await tempDir();
    await writeTree(dir, { 'old/index.js': HELLO });
  });
  after(async () => {
    server?.close();
    if (dir) await removeDir(dir);
  });

  test('deploy skips the check and uploads', async () => {
    const r = await runInProcess(['deploy', 'old', '--url', url], { cwd: dir, env: { NIMBUS_TOKEN: 'nmb_test' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deployed old/);
    assert.deepEqual(seen, ['GET /api/v1/limits', 'POST /api/v1/packages', 'PUT /api/v1/functions/old']);
  });
});

describe('packageTooLarge', () => {
  const limits = { maxBytes: 1024, maxUnpackedBytes: 4096, maxEntries: 10 };
  test('names the size, the limit and what to do; nothing when the package fits', () => {
    assert.equal(packageTooLarge('app.js', { bytes: 2048 }, limits), "app.js is 2 KB, over the platform's upload limit of 1 KB. Nothing was uploaded.");
    assert.match(packageTooLarge('src', { bytes: 100, unpackedBytes: 5000, entries: 3, files: 2 }, limits) ?? '', /^src holds 4\.9 KB of files, over the platform's limit of 4 KB unpacked\. Deploy a folder/);
    assert.equal(packageTooLarge('src', { bytes: 1024, unpackedBytes: 4096, entries: 10, files: 9 }, limits), undefined);
  });
});
