/**
 * The exec runtime: any program as a function. A shell script (stdio), a Python http.server
 * program (http), a C program compiled here, the manifest, and the deploy-time refusals.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, deploy, EXAMPLES, invoke, packFolder, startPlatform, upload, waitFor, writeFunction, type TestPlatform } from './harness.js';

const UPPER_C = `
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  int c;
  const char *method = getenv("Http_Method");
  printf("%s:", method ? method : "?");
  while ((c = getchar()) != EOF) putchar(toupper(c));
  return 0;
}
`;

/** A Python program serving HTTP on the unix socket it is offered, never on a port. */
const UNIX_SOCKET_SERVER = `import os, socketserver
from http.server import BaseHTTPRequestHandler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(200, "unix socket %s" % self.path)

    def do_POST(self):
        self.answer(201, self.rfile.read(int(self.headers["content-length"])).decode().upper())

    def log_message(self, format, *args):
        pass  # the default one reads a client address, which a unix socket has not

class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

path = os.environ["NIMBUS_HTTP_SOCKET"]
print("serving on", path, flush=True)
Server(path, Handler).serve_forever()
`;

describe('exec runtime: any program', () => {
  let platform: TestPlatform;
  const dirs: string[] = [];
  before(async () => {
    platform = await startPlatform();
  });
  after(async () => {
    await platform?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function deployRaw(name: string, dir: string, config: Record<string, unknown> = {}) {
    const uploaded = await upload(platform.url, await packFolder(dir));
    return api(platform.url, 'PUT', `/api/v1/functions/${name}`, { package: uploaded.json.sha256, ...config });
  }

  test('examples/exec-bash: a shell script per request (stdio), found from nimbus.json', async () => {
    const fn = await deploy(platform.url, 'wc', join(EXAMPLES, 'exec-bash'));
    assert.deepEqual([fn.runtime, fn.handler, fn.protocol], ['exec', './wc.sh', 'stdio']);
    const res = await invoke(platform.url, 'wc/count?lang=en', { method: 'POST', headers: { 'user-agent': 'test-agent' }, body: 'three little words' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.text, 'POST /count?lang=en: 3 words\n');
    const id = res.headers['x-nimbus-invocation-id'];
    await waitFor(async () => {
      const logs = await api(platform.url, 'GET', '/api/v1/functions/wc/logs');
      return JSON.stringify(logs.json).includes('counted 3 words for test-agent') && JSON.stringify(logs.json).includes(String(id));
    }, 10_000, 'the script stderr in the logs, with the invocation id');
  });

  test('stdio: a non-zero exit is FUNCTION_ERROR with the last stderr line; content_type sets the type', async () => {
    const dir = await writeFunction({ 'run.sh': '#!/bin/sh\nif [ "$Http_Path" = /fail ]; then echo "cannot do that" >&2; exit 3; fi\necho \'{"ok":true}\'\n' });
    dirs.push(dir);
    chmodSync(join(dir, 'run.sh'), 0o755);
    const res = await deployRaw('sh-json', dir, { runtime: 'exec', command: './run.sh', protocol: 'stdio', env: { content_type: 'application/json' } });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const ok = await invoke(platform.url, 'sh-json');
    assert.equal(ok.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(ok.text), { ok: true });
    const failed = await invoke(platform.url, 'sh-json/fail');
    assert.equal(failed.status, 502);
    assert.equal(failed.headers['x-nimbus-error'], 'FUNCTION_ERROR');
  });

  test('examples/exec-python-http: a long-running HTTP program (http protocol)', async () => {
    const fn = await deploy(platform.url, 'pyserver', join(EXAMPLES, 'exec-python-http'));
    assert.deepEqual([fn.runtime, fn.protocol], ['exec', 'http']);
    const get = await invoke(platform.url, 'pyserver/hello?x=1');
    assert.equal(get.status, 200, get.text);
    assert.deepEqual(JSON.parse(get.text), { path: '/hello', query: { x: ['1'] }, served_by: 'python http.server' });
    const post = await invoke(platform.url, 'pyserver/echo', { method: 'POST', body: 'ping' });
    assert.equal(post.status, 201);
    assert.deepEqual(JSON.parse(post.text), { echo: 'ping' });
    // One program serves them all: the same instance process answered both.
    assert.equal(platform.server.instancePids('pyserver').length, 1);
  });

  test('http on a unix socket: a Python UnixStreamServer at $NIMBUS_HTTP_SOCKET, no setting needed', async () => {
    const dir = await writeFunction({ 'server.py': UNIX_SOCKET_SERVER });
    dirs.push(dir);
    const res = await deployRaw('unixpy', dir, { runtime: 'exec', command: 'python3 server.py' });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.equal(res.json?.lastStartError, undefined);
    const get = await invoke(platform.url, 'unixpy/some/path?q=1');
    assert.equal(get.status, 200, get.text);
    assert.equal(get.text, 'unix socket /some/path?q=1');
    const post = await invoke(platform.url, 'unixpy', { method: 'POST', body: 'over a socket' });
    assert.equal(post.status, 201);
    assert.equal(post.text, 'OVER A SOCKET');
    await waitFor(async () => JSON.stringify((await api(platform.url, 'GET', '/api/v1/functions/unixpy/logs')).json).includes('serving on /'), 10_000, 'the program output in the logs');
  });

  test('a C program compiled here, deployed with --command (stdio)', async () => {
    const dir = await writeFunction({ 'upper.c': UPPER_C });
    dirs.push(dir);
    execFileSync('cc', ['-O2', '-o', join(dir, 'upper'), join(dir, 'upper.c')]);
    const res = await deployRaw('upper', dir, { runtime: 'exec', command: './upper', protocol: 'stdio' });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const out = await invoke(platform.url, 'upper', { method: 'PUT', body: 'make me loud' });
    assert.equal(out.text, 'PUT:MAKE ME LOUD');
  });

  test('an http program that dies at start is FUNCTION_START_FAILED with its last words', async () => {
    const dir = await writeFunction({ 'server.sh': '#!/bin/sh\necho "missing config file" >&2\nexit 1\n' });
    dirs.push(dir);
    chmodSync(join(dir, 'server.sh'), 0o755);
    const res = await deployRaw('dies', dir, { runtime: 'exec', command: './server.sh' });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    const failed = await invoke(platform.url, 'dies');
    assert.equal(failed.status, 502);
    assert.equal(failed.headers['x-nimbus-error'], 'FUNCTION_START_FAILED');
  });

  test('deploy refuses what cannot run, saying how to fix it; the previous version keeps serving', async () => {
    const dir = await writeFunction({ 'tool.sh': '#!/bin/sh\necho hi\n', 'data.txt': 'x' });
    dirs.push(dir);
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ runtime: 'exec' }, 'HANDLER_NOT_FOUND', /needs the command.*--command/],
      [{ runtime: 'exec', command: './missing' }, 'HANDLER_NOT_FOUND', /not a file of the package/],
      [{ runtime: 'exec', command: './tool.sh' }, 'HANDLER_NOT_FOUND', /not executable: chmod \+x/],
      [{ runtime: 'exec', command: 'tool.sh' }, 'HANDLER_NOT_FOUND', /write \.\/tool\.sh/],
      [{ runtime: 'node', command: './tool.sh' }, 'INVALID_REQUEST', /command is a setting of the exec runtime/],
      [{ runtime: 'exec', command: './tool.sh', protocol: 'grpc' }, 'INVALID_REQUEST', /protocol must be one of http, stdio/],
    ];
    for (const [config, code, message] of cases) {
      const res = await deployRaw('wc', dir, config);
      assert.equal(res.status, 400, JSON.stringify(config));
      assert.equal(res.json?.error?.code, code, JSON.stringify(res.json));
      assert.match(res.json?.error?.message, message);
    }
    const bad = await writeFunction({ 'nimbus.json': '{"runtime":"exec","cmd":"./x"}' });
    dirs.push(bad);
    const manifest = await deployRaw('wc', bad);
    assert.equal(manifest.json?.error?.code, 'INVALID_MANIFEST');
    assert.match(manifest.json?.error?.message, /unknown field\(s\) cmd/);
    // The version deployed in the first test still answers.
    assert.equal((await invoke(platform.url, 'wc', { method: 'POST', body: 'a b' })).text, 'POST /: 2 words\n');
  });
});
