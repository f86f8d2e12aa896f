/**
 * The commands run in-process against a fake platform that records requests: checks exactly
 * what the CLI sends and prints. The real platform is exercised in integration.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startFakePlatform, type FakePlatform } from './fake-platform.js';
import { memoryIO, removeDir, runInProcess, tempDir, writeTree } from './helpers.js';
import { runCli } from '../../src/cli/program.js';

let platform: FakePlatform;
let dir: string;

const run = (args: string[], options: Parameters<typeof runInProcess>[1] = {}) =>
  runInProcess([...args, '--url', platform.url], { cwd: dir, ...options });

before(async () => {
  platform = await startFakePlatform();
  dir = await tempDir();
  await writeTree(dir, {
    'app/index.js': 'export default { fetch() { return new Response("hi") } }\n',
    'app/.git/HEAD': 'x',
    'single.js': 'export default () => new Response("single")\n',
  });
});
after(async () => {
  await platform.close();
  await removeDir(dir);
});
beforeEach(() => {
  platform.requests.length = 0;
});

describe('deploy', () => {
  it('packs a folder, uploads it as gzip, then PUTs the function with the flags', async () => {
    const r = await run([
      'deploy', 'app', '--name', 'hello', '--env', 'GREETING=hi', '--env', 'X=a=b',
      '--timeout', '10s', '--memory', '512', '--idle-timeout', '10m', '--concurrency', '4', '--max-instances', '3',
      '--runtime', 'node', '--handler', 'index.js',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Deployed hello (version 1, node, handler index.js)\n${platform.url}/fn/hello\n`);
    assert.match(r.stderr, /^Packaging app…$/m);
    assert.match(r.stderr, /^Uploading \d+ B \(1 file, \d+ B unpacked\)…$/m);
    assert.match(r.stderr, /^Deploying hello…$/m);

    const [upload, put] = platform.requests;
    assert.equal(upload!.method, 'POST');
    assert.equal(upload!.url, '/api/v1/packages');
    assert.equal(upload!.headers['content-type'], 'application/gzip');
    assert.equal(upload!.headers['x-nimbus-filename'], undefined);
    assert.ok(gunzipSync(upload!.body).includes(Buffer.from('index.js')));
    assert.equal(put!.method, 'PUT');
    assert.equal(put!.url, '/api/v1/functions/hello');
    assert.equal(put!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(put!.body.toString()), {
      package: platform.functions.get('hello')!.package,
      runtime: 'node',
      handler: 'index.js',
      env: { GREETING: 'hi', X: 'a=b' },
      timeout: 10,
      memory: 512,
      idleTimeout: 600,
      concurrency: 4,
      maxInstances: 3,
    });
  });

  it('uploads a single file as is, named by x-nimbus-filename; --json prints the function', async () => {
    const r = await run(['deploy', 'single.js', '--name', 'single', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const fn = JSON.parse(r.stdout) as { name: string; version: number };
    assert.equal(fn.name, 'single');
    const [upload, put] = platform.requests;
    assert.equal(upload!.headers['x-nimbus-filename'], 'single.js');
    assert.equal(upload!.headers['content-type'], 'application/octet-stream');
    assert.equal(upload!.body.toString(), 'export default () => new Response("single")\n');
    assert.deepEqual(Object.keys(JSON.parse(put!.body.toString())), ['package']);
  });

  it('a second deploy makes a new version', async () => {
    const r = await run(['deploy', 'single.js', '--name', 'single']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Deployed single \(version 2, node, handler index\.js\)$/m);
  });

  it('refuses bad flags locally with exit 2 before sending anything', async () => {
    const cases: [string[], RegExp][] = [
      [['--env', 'FOO'], /--env needs KEY=VALUE/],
      [['--memory', 'lots'], /--memory must be a number of MB/],
      [['--timeout', '2h'], /--timeout must be between 100ms and 1h/],
      [['--runtime', 'ruby'], /Allowed choices are node, python/],
      [['--concurrency', '0'], /--concurrency must be between 1 and 1000/],
    ];
    for (const [flags, message] of cases) {
      const r = await run(['deploy', 'app', '--name', 'hello', ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const noName = await run(['deploy', 'app']);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /required option '-n, --name <name>' not specified/);
    const badName = await run(['deploy', 'app', '--name', 'Bad_Name']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /invalid function name/);
    assert.equal(platform.requests.length, 0);
  });

  it('a missing path is an error naming it', async () => {
    const r = await run(['deploy', 'nope', '--name', 'x']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: No such file or folder: nope\n');
  });

  it('prints API errors as Error [CODE]: message', async () => {
    const r = await run(['deploy', 'app', '--name', 'hello', '--handler', 'missing.js']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error \[HANDLER_NOT_FOUND\]: No file missing\.js in the package\.$/m);
  });
});

describe('invoke', () => {
  it('sends data, headers, method and sub-path, and prints the body', async () => {
    const r = await run(['invoke', 'hello', '--data', '{"a":1}', '-H', 'X-Test: yes', '-H', 'x-test: again', '--path', 'sub/path?q=1']);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout) as { method: string; path: string; query: string; headers: Record<string, string>; body: string };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/sub/path');
    assert.equal(echo.query, '?q=1');
    assert.equal(echo.body, '{"a":1}');
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.equal(echo.headers['x-test'], 'yes, again');
  });

  it('uses GET without data, and the method given', async () => {
    const get = await run(['invoke', 'hello']);
    assert.equal((JSON.parse(get.stdout) as { method: string }).method, 'GET');
    const put = await run(['invoke', 'hello', '-X', 'put', '-d', 'x']);
    assert.equal((JSON.parse(put.stdout) as { method: string }).method, 'PUT');
  });

  it('round-trips binary bodies byte for byte (file and stdin)', async () => {
    const bytes = randomBytes(300_000);
    await writeFile(join(dir, 'blob.bin'), bytes);
    const r = await run(['invoke', 'hello', '--data-file', 'blob.bin', '--path', '/echo-bytes']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdoutBytes.equals(bytes));
    const upload = platform.requests.at(-1)!;
    assert.equal(upload.headers['content-type'], 'application/octet-stream');
    assert.equal(upload.headers['content-length'], String(bytes.length));

    const small = randomBytes(1000);
    const s = await run(['invoke', 'hello', '--data-file', '-', '--path', '/echo-bytes'], { stdin: small });
    assert.ok(s.stdoutBytes.equals(small));
  });

  it('--include prints the status line and headers first', async () => {
    const r = await run(['invoke', 'hello', '--include']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(r.stdout, /^x-nimbus-invocation-id: inv_0123456789abcdef$/m);
    assert.match(r.stdout, /^set-cookie: a=1\nset-cookie: b=2$/m);
    assert.match(r.stdout, /\n\n\{"method":"GET"/);
  });

  it("exits 1 on a function's error status, with the body on stdout", async () => {
    const r = await run(['invoke', 'hello', '--path', '/teapot']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'short and stout');
    assert.equal(r.stderr, "Error: HTTP 418 I'm a Teapot\n");
  });

  it('exits 1 on platform errors, printing the code and message', async () => {
    const r = await run(['invoke', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Error: HTTP 404 [FUNCTION_NOT_FOUND]: No function named "nope" is deployed.\n');
    const t = await run(['invoke', 'hello', '--path', '/timeout']);
    assert.equal(t.code, 1);
    assert.match(t.stderr, /^Error: HTTP 504 \[FUNCTION_TIMEOUT\]: The function did not answer within 1s\.$/m);
    assert.match(t.stderr, /nimbus logs hello/);
  });

  it('refuses conflicting or malformed flags with exit 2', async () => {
    const both = await run(['invoke', 'hello', '--data', 'x', '--data-file', 'blob.bin']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /cannot be used with/);
    const header = await run(['invoke', 'hello', '--header', 'nocolon']);
    assert.equal(header.code, 2);
    assert.match(header.stderr, /--header needs 'Key: Value'/);
    const getBody = await run(['invoke', 'hello', '-X', 'GET', '-d', 'x']);
    assert.equal(getBody.code, 2);
    assert.match(getBody.stderr, /GET request cannot have a body/);
  });

  it('does not send the platform token to functions', async () => {
    const r = await run(['invoke', 'hello', '--token', 'secret']);
    const echo = JSON.parse(r.stdout) as { headers: Record<string, string> };
    assert.equal(echo.headers['authorization'], undefined);
  });
});

describe('ls, get, rm', () => {
  it('ls prints a table, --json the functions array', async () => {
    const r = await run(['ls']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME +RUNTIME +VERSION +INSTANCES +TIMEOUT +MEMORY +UPDATED$/);
    assert.match(lines[1]!, /^hello +node +1 +0 +10s +512 MB +just now$/);
    assert.match(lines[2]!, /^single +node +2 +0 +30s +256 MB +just now$/);
    const j = await run(['ls', '--json']);
    const list = JSON.parse(j.stdout) as { name: string }[];
    assert.deepEqual(list.map((f) => f.name), ['hello', 'single']);
  });

  it('get shows the settings, --json the object', async () => {
    const r = await run(['get', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^idle timeout: +10m$/m);
    assert.match(r.stdout, /^env: +GREETING=hi\n +X=a=b$/m);
    assert.match(r.stdout, new RegExp(`^url: +${platform.url}/fn/hello$`, 'm'));
    const j = await run(['get', 'hello', '--json']);
    assert.deepEqual(JSON.parse(j.stdout), platform.functions.get('hello'));
  });

  it('sends the bearer token from --token or NIMBUS_TOKEN', async () => {
    await run(['get', 'hello', '--token', 'abc']);
    assert.equal(platform.requests.at(-1)!.headers['authorization'], 'Bearer abc');
    await run(['get', 'hello'], { env: { NIMBUS_TOKEN: 'from-env' } });
    assert.equal(platform.requests.at(-1)!.headers['authorization'], 'Bearer from-env');
    await run(['get', 'hello']);
    assert.equal(platform.requests.at(-1)!.headers['authorization'], undefined);
  });

  it('takes the address from NIMBUS_URL', async () => {
    const io = memoryIO({ env: { NIMBUS_URL: platform.url } });
    assert.equal(await runCli(['ls', '--json'], io), 0);
    assert.equal((JSON.parse(io.stdoutText()) as unknown[]).length, 2);
  });

  it('rm removes, and a missing function is FUNCTION_NOT_FOUND', async () => {
    const r = await run(['rm', 'single']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Removed single\n');
    assert.equal(platform.requests.at(-1)!.method, 'DELETE');
    const again = await run(['get', 'single']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'Error [FUNCTION_NOT_FOUND]: No function named "single" is deployed.\n');
  });

  it('ls with no functions says how to deploy one', async () => {
    const empty = await startFakePlatform();
    try {
      const r = await runInProcess(['ls', '--url', empty.url]);
      assert.equal(r.stdout, 'No functions deployed yet. Deploy one with: nimbus deploy <path> --name <name>\n');
      const j = await runInProcess(['ls', '--json', '--url', empty.url]);
      assert.deepEqual(JSON.parse(j.stdout), []);
    } finally {
      await empty.close();
    }
  });
});

describe('logs', () => {
  before(() => {
    platform.logs.push(
      { time: '2026-11-23T10:00:00.123Z', function: 'hello', invocationId: null, stream: 'stdout', message: 'loaded' },
      { time: '2026-11-23T10:00:01.000Z', function: 'hello', invocationId: 'inv_abcdef0123', stream: 'stderr', message: 'oops' },
    );
  });

  it('prints human lines and passes since/limit', async () => {
    const r = await run(['logs', 'hello', '--since', '10m', '--limit', '5']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.123 - +loaded$/);
    assert.match(lines[1]!, /^\d\d:\d\d:\d\d\.000 abcdef01 \[stderr\] oops$/);
    assert.equal(platform.requests.at(-1)!.url, '/api/v1/functions/hello/logs?since=10m&limit=5');
  });

  it('--json prints NDJSON', async () => {
    const r = await run(['logs', 'hello', '--json']);
    const entries = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { message: string });
    assert.deepEqual(entries.map((e) => e.message), ['loaded', 'oops']);
  });

  it('--follow streams new lines until Ctrl-C, then exits 0', async () => {
    const io = memoryIO({ cwd: dir });
    const done = runCli(['logs', 'hello', '--follow', '--json', '--url', platform.url], io);
    const deadline = Date.now() + 5000;
    while (platform.followers() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    platform.emitLog({ time: new Date().toISOString(), function: 'hello', invocationId: 'inv_1', stream: 'stdout', message: 'live line' });
    while (!io.stdoutText().includes('live line') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    io.signal('SIGINT');
    assert.equal(await done, 0);
    assert.deepEqual(
      io.stdoutText().trimEnd().split('\n').map((l) => (JSON.parse(l) as { message: string }).message),
      ['loaded', 'oops', 'live line'],
    );
    assert.equal(platform.requests.at(-1)!.url, '/api/v1/functions/hello/logs?follow=true');
  });

  it('refuses a bad --since with exit 2', async () => {
    const r = await run(['logs', 'hello', '--since', 'yesterday']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--since must be a duration/);
  });
});

describe('usage and connection errors', () => {
  it('explains an unreachable platform', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runInProcess(['ls', '--url', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `Error: Cannot reach Nimbus at http://127.0.0.1:${port}. Start it with \`nimbus up\` or set --url/NIMBUS_URL.\n`,
    );
  });

  it('says so when the connection drops mid-answer', async () => {
    const sockets = createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
        setTimeout(() => socket.destroy(), 50);
      });
    });
    await new Promise<void>((resolve) => sockets.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(sockets.address() as AddressInfo).port}`;
    try {
      const r = await runInProcess(['invoke', 'x', '--url', url]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, 'partial');
      assert.match(r.stderr, new RegExp(`^Error: Lost the connection to Nimbus at ${url} before the answer was complete \\(\\w+\\)\\.$`, 'm'));
      const ls = await runInProcess(['ls', '--url', url]);
      assert.equal(ls.code, 1);
      assert.match(ls.stderr, /Lost the connection to Nimbus/);
    } finally {
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
    }
  });

  it('refuses a malformed --url with exit 2', async () => {
    const r = await runInProcess(['ls', '--url', 'not a url']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Invalid platform URL/);
  });

  it('unknown commands and options are usage errors (exit 2)', async () => {
    const cmd = await runInProcess(['deplyo']);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command 'deplyo'/);
    assert.match(cmd.stderr, /Did you mean deploy\?/);
    const opt = await runInProcess(['ls', '--jsn']);
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /unknown option '--jsn'/);
  });

  it('--help and --version exit 0', async () => {
    const help = await runInProcess(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: nimbus/);
    assert.match(help.stdout, /Examples:/);
    for (const cmd of ['up', 'deploy', 'invoke', 'ls', 'get', 'rm', 'logs']) {
      const r = await runInProcess([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, new RegExp(`Usage: nimbus ${cmd}`));
      assert.match(r.stdout, /Examples:\n  \$ nimbus /, cmd);
    }
    const version = await runInProcess(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('colours only on a terminal without NO_COLOR', async () => {
    const tty = await run(['ls'], { tty: true });
    assert.match(tty.stdout, /\u001b\[1mNAME/);
    const noColor = await run(['ls'], { tty: true, env: { NO_COLOR: '1' } });
    assert.doesNotMatch(noColor.stdout, /\u001b\[/);
    const piped = await run(['ls']);
    assert.doesNotMatch(piped.stdout, /\u001b\[/);
  });
});
