/**
 * End to end: the real platform (startServer from src/server.ts) in this process, the compiled
 * CLI spawned as `node dist/src/cli/main.js … --url <url>`, functions written to temp dirs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPlatform, type TestPlatform } from '../integration/harness.js';
import { eventually, removeDir, runNimbus, startNimbus, tempDir, writeTree } from './helpers.js';

const ECHO_INDEX = `
import { tiny } from 'tiny';
import { shout } from './lib/shout.js';

console.log('echo module loaded');

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/binary') {
      return new Response(await request.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });
    }
    if (url.pathname === '/teapot') return new Response('nope', { status: 418 });
    if (url.pathname === '/throw') throw new Error('boom from the handler \\u001b]0;pwned\\u0007');
    const body = await request.text();
    console.log('invoked ' + url.pathname + ' ' + body);
    console.error('to stderr ' + url.pathname);
    return Response.json({
      method: request.method,
      path: url.pathname,
      query: url.search,
      header: request.headers.get('x-test'),
      body,
      greeting: process.env.GREETING ?? null,
      tiny,
      shout: shout('hi'),
    });
  },
};
`;

describe('nimbus CLI against the real platform', { timeout: 180_000 }, () => {
  let server: TestPlatform;
  let url: string;
  let dir: string;

  let token: string;
  const nimbus = (args: string[], options: Parameters<typeof runNimbus>[1] = {}) =>
    runNimbus([...args, '--url', url], { cwd: dir, ...options, env: { NIMBUS_TOKEN: token, ...options.env } });

  before(async () => {
    dir = await tempDir();
    server = await startPlatform({ host: '127.0.0.1', dataDir: join(dir, 'data') });
    url = server.url;
    token = server.token;
    await writeTree(dir, {
      'echo/index.js': ECHO_INDEX,
      'echo/lib/shout.js': 'export const shout = (s) => s.toUpperCase() + "!";\n',
      'echo/node_modules/tiny/package.json': '{"name":"tiny","type":"module","main":"index.js"}\n',
      'echo/node_modules/tiny/index.js': 'export const tiny = "tiny-ok";\n',
      'echo/.git/HEAD': 'ref: refs/heads/main\n',
      'single.js': 'export default { fetch() { return new Response("hi from a single file") } };\n',
    });
  });

  after(async () => {
    await server?.close();
    if (dir) await removeDir(dir);
  });

  it('deploys a folder', async () => {
    const r = await nimbus(['deploy', 'echo', '--name', 'echo', '--env', 'GREETING=hello']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /^Deployed echo \(version 1, node, handler \S+\)$/m);
    assert.match(out, new RegExp(`^${url}/fn/echo$`, 'm'));
    assert.match(r.stderr, /Packaging echo…/);
    assert.match(r.stderr, /Uploading .* \(4 files, .*\)…/);
  });

  it('deploys a single file, and a new version with --json', async () => {
    const r = await nimbus(['deploy', 'single.js', '--name', 'single']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /^Deployed single \(version 1, node, handler single\.js\)$/m);
    const v2 = await nimbus(['deploy', 'single.js', '--name', 'single', '--timeout', '5s', '--memory', '128', '--json']);
    assert.equal(v2.code, 0, v2.stderr);
    const fn = JSON.parse(v2.stdout.toString()) as { name: string; version: number; timeout: number; memory: number; url: string };
    assert.equal(fn.name, 'single');
    assert.equal(fn.version, 2);
    assert.equal(fn.timeout, 5);
    assert.equal(fn.memory, 128);
    assert.equal(fn.url, `${url}/fn/single`);
    const hi = await nimbus(['invoke', 'single']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout.toString(), 'hi from a single file');
  });

  it('invokes with data, headers and a sub-path', async () => {
    const r = await nimbus(['invoke', 'echo', '--data', 'payload', '--header', 'X-Test: yes', '--path', '/sub/path?q=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.toString()), {
      method: 'POST',
      path: '/sub/path',
      query: '?q=1',
      header: 'yes',
      body: 'payload',
      greeting: 'hello',
      tiny: 'tiny-ok',
      shout: 'HI!',
    });
    const get = await nimbus(['invoke', 'echo']);
    assert.equal((JSON.parse(get.stdout.toString()) as { method: string }).method, 'GET');
  });

  it('round-trips a binary body byte for byte', async () => {
    const bytes = randomBytes(512 * 1024);
    await writeFile(join(dir, 'blob.bin'), bytes);
    const r = await nimbus(['invoke', 'echo', '--data-file', 'blob.bin', '--path', '/binary']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, bytes.length);
    assert.ok(r.stdout.equals(bytes), 'response bytes differ');
  });

  it('--include prints the status and headers', async () => {
    const r = await nimbus(['invoke', 'echo', '--include']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /^HTTP\/1\.1 200 OK\n/);
    assert.match(out, /^x-nimbus-invocation-id: \S+$/m);
    assert.match(out, /^content-type: application\/json/m);
  });

  it("exits 1 on the function's own error status, body on stdout", async () => {
    const r = await nimbus(['invoke', 'echo', '--path', '/teapot']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.toString(), 'nope');
    assert.match(r.stderr, /^Error: HTTP 418\b/m);
  });

  it('exits 1 on platform errors, printing the code', async () => {
    const missing = await nimbus(['invoke', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: HTTP 404 \[FUNCTION_NOT_FOUND\]: .*nope/m);
    const thrown = await nimbus(['invoke', 'echo', '--path', '/throw']);
    assert.equal(thrown.code, 1);
    assert.match(thrown.stderr, /^Error: HTTP 502 \[FUNCTION_ERROR\]: /m);
    assert.match(thrown.stderr, /nimbus logs echo/);
    // The CLI presents its token (x-nimbus-token, never forwarded): the operator sees the reason.
    assert.match(thrown.stderr, /boom from the handler \\x1b\]0;pwned\\a/);
    assert.doesNotMatch(thrown.stderr, /\u001b/, "the function's text cannot act on the terminal");
  });

  it('ls shows a table, --json the array', async () => {
    const r = await nimbus(['ls']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.toString().trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME +RUNTIME +VERSION +INSTANCES +TIMEOUT +MEMORY +UPDATED$/);
    assert.match(lines[1]!, /^echo +node +1 +\d+ +30s +256 MB +(just now|\d+s ago)$/);
    assert.match(lines[2]!, /^single +node +2 +\d+ +5s +128 MB +(just now|\d+s ago)$/);
    const j = await nimbus(['ls', '--json']);
    assert.deepEqual((JSON.parse(j.stdout.toString()) as { name: string }[]).map((f) => f.name), ['echo', 'single']);
  });

  it('get shows the settings, --json the object', async () => {
    const r = await nimbus(['get', 'echo']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /^name: +echo$/m);
    assert.match(out, /^runtime: +node$/m);
    assert.match(out, /^env: +GREETING=hello$/m);
    assert.match(out, /^idle timeout: +5m$/m);
    assert.match(out, /^package: +[0-9a-f]{64}$/m);
    const j = await nimbus(['get', 'echo', '--json']);
    const fn = JSON.parse(j.stdout.toString()) as { name: string; env: Record<string, string> };
    assert.equal(fn.name, 'echo');
    assert.deepEqual(fn.env, { GREETING: 'hello' });
  });

  it('logs prints what the function wrote', async () => {
    const out = await eventually(async () => {
      const r = await nimbus(['logs', 'echo']);
      const text = r.stdout.toString();
      return r.code === 0 && text.includes('invoked /sub/path payload') && text.includes('[stderr] to stderr') ? text : undefined;
    });
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} \S+ +\[stdout\] invoked \/sub\/path payload$/m);
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} \S+ +\[stderr\] to stderr \/sub\/path$/m);
    const j = await nimbus(['logs', 'echo', '--json', '--since', '10m']);
    const entries = j.stdout.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as { message: string; stream: string; invocationId: string | null });
    const line = entries.find((e) => e.message.includes('invoked /sub/path'));
    assert.ok(line);
    assert.equal(line.stream, 'stdout');
    assert.ok(line.invocationId);
  });

  it('logs --follow streams new lines until Ctrl-C', async () => {
    const follow = startNimbus(['logs', 'echo', '--follow', '--url', url], { cwd: dir, env: { NIMBUS_TOKEN: token } });
    try {
      await follow.waitFor(/invoked \/sub\/path/);
      const marker = `marker-${Date.now()}`;
      const r = await nimbus(['invoke', 'echo', '--data', marker, '--path', '/live']);
      assert.equal(r.code, 0, r.stderr);
      await follow.waitFor(new RegExp(`invoked /live ${marker}`));
      follow.signal('SIGINT');
      const exit = await follow.exited;
      assert.equal(exit.code, 0, follow.stderr());
    } finally {
      await follow.close();
    }
  });

  it('rm removes a function', async () => {
    const r = await nimbus(['rm', 'single']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'Removed single, with its queued async invocations and invocation records\n');
    const gone = await nimbus(['get', 'single']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^Error \[FUNCTION_NOT_FOUND\]: /m);
    const again = await nimbus(['rm', 'single']);
    assert.equal(again.code, 1);
  });

  it('reports API validation errors with their code', async () => {
    const r = await nimbus(['deploy', 'single.js', '--name', 'bad', '--handler', 'nothere.js']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error \[[A-Z_]+\]: /m);
  });
});

describe('nimbus CLI process behaviour', { timeout: 120_000 }, () => {
  it('explains an unreachable platform and exits 1', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runNimbus(['ls', '--url', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: Cannot reach Nimbus at http://127.0.0.1:${port}. Start it with \`nimbus up\` or set --url/NIMBUS_URL.\n`);
    const env = await runNimbus(['ls'], { env: { NIMBUS_URL: `http://127.0.0.1:${port}` } });
    assert.equal(env.code, 1);
    assert.match(env.stderr, new RegExp(`Cannot reach Nimbus at http://127\\.0\\.0\\.1:${port}\\.`));
  });

  it('usage errors exit 2', async () => {
    const r = await runNimbus(['deploy', 'x', '--name', 'ok', '--env', 'NOPE']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--env needs KEY=VALUE/);
  });
});
