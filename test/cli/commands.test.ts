/**
 * The commands run in-process (runCli, so the suite stays fast) against the real platform
 * (startServer, in this process, on a temp data dir): what the CLI prints, its exit codes, and
 * the effect of what it sent, seen through the management API or the deployed function itself.
 * integration.test.ts runs the compiled CLI as a child process instead.
 *
 * Transport faults the platform cannot produce (refused or cut connections), and checks that a
 * command connected nowhere or what went on the wire, use a raw TCP server that answers nothing.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, invoke, startPlatform, type TestPlatform } from '../integration/harness.js';
import { eventually, memoryIO, removeDir, runInProcess, tempDir, writeTree } from './helpers.js';
import { runCli } from '../../src/cli/program.js';

/** The function deployed as `hello`: echoes the request, and logs on demand. */
const ECHO = `
console.log('loaded');

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/echo-bytes') {
      return new Response(await request.arrayBuffer(), {
        headers: {
          'content-type': 'application/octet-stream',
          'x-request-content-type': request.headers.get('content-type') ?? '-',
          'x-request-content-length': request.headers.get('content-length') ?? '-',
        },
      });
    }
    if (url.pathname === '/teapot') return new Response('short and stout', { status: 418 });
    if (url.pathname === '/oops') {
      console.error('oops');
      return new Response('logged');
    }
    if (url.pathname === '/say') {
      console.log(await request.text());
      return new Response('said');
    }
    const headers = new Headers({ 'content-type': 'application/json' });
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    return new Response(
      JSON.stringify({
        method: request.method,
        path: url.pathname,
        query: url.search,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
        env: { GREETING: process.env.GREETING ?? null, X: process.env.X ?? null },
      }),
      { headers },
    );
  },
};
`;

const SINGLE = 'export default () => new Response("single")\n';

interface Echo {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
  env: Record<string, string | null>;
}

let platform: TestPlatform;
let dir: string;

const run = (args: string[], options: Parameters<typeof runInProcess>[1] = {}) =>
  runInProcess([...args, '--url', platform.url], { cwd: dir, ...options, env: { NIMBUS_TOKEN: platform.token, ...options.env } });

/** A function as the management API answers it. */
async function getFunction(name: string): Promise<Record<string, any>> {
  const res = await api(platform.url, 'GET', `/api/v1/functions/${name}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json!;
}

/**
 * A raw TCP server, not HTTP: records each request head that arrives, then lets `onHead` answer
 * (by default it destroys the socket). `connections` counts every connection made.
 */
async function rawServer(onHead: (socket: Socket) => void = (socket) => socket.destroy()) {
  const heads: string[] = [];
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    let buffered = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (buffered.includes('\r\n\r\n')) return;
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      heads.push(buffered.slice(0, end));
      onHead(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

before(async () => {
  platform = await startPlatform({ host: '127.0.0.1', port: 0 });
  dir = await tempDir();
  await writeTree(dir, {
    'app/index.js': ECHO,
    'app/.git/HEAD': 'x',
    'single.js': SINGLE,
  });
});
after(async () => {
  await platform?.close();
  if (dir) await removeDir(dir);
});

describe('on an empty platform', () => {
  it('ls says how to deploy one; --json prints []', async () => {
    const r = await run(['ls']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'No functions deployed yet. Deploy one with: nimbus deploy <path> --name <name>\n');
    const j = await run(['ls', '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), []);
  });
});

describe('deploy', () => {
  it('packs a folder (without .git), deploys it with the flags, and the function runs with them', async () => {
    const r = await run([
      'deploy', 'app', '--name', 'hello', '--env', 'GREETING=hi', '--env', 'X=a=b',
      '--timeout', '10s', '--memory', '512', '--idle-timeout', '10m', '--concurrency', '4', '--max-instances', '3',
      '--runtime', 'node', '--handler', 'index.js',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Deployed hello (version 1, node, handler index.js)\n${platform.url}/fn/hello\n`);
    assert.match(r.stderr, /^Packaging app…$/m);
    assert.match(r.stderr, /^Uploading \d+ B \(1 file, [\d.]+ K?B unpacked\)…$/m);
    assert.match(r.stderr, /^Deploying hello…$/m);

    const fn = await getFunction('hello');
    assert.match(fn.package as string, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      { ...fn, package: undefined, url: undefined, hostUrl: undefined, instances: undefined, readyInstances: undefined, desired: undefined, createdAt: undefined, updatedAt: undefined },
      {
        name: 'hello',
        runtime: 'node',
        handler: 'index.js',
        version: 1,
        package: undefined,
        env: { GREETING: 'hi', X: 'a=b' },
        secrets: [],
        timeout: 10,
        memory: 512,
        idleTimeout: 600,
        concurrency: 4,
        maxInstances: 3,
        minInstances: 0,
        network: 'outbound',
        maxProcesses: 128,
        maxOpenFiles: 1024,
        tmpSize: 64,
        auth: 'public',
        // Half the capacity (4 x 3 / 2), and the defaults.
        asyncConcurrency: 6,
        maxRetries: 2,
        retryDelay: 1,
        maxEventAge: 21_600,
        url: undefined,
        hostUrl: undefined,
        instances: undefined,
        readyInstances: undefined,
        desired: undefined,
        createdAt: undefined,
        updatedAt: undefined,
      },
    );
    assert.equal(fn.url, `${platform.url}/fn/hello`);
    assert.equal(fn.hostUrl, `http://hello.localhost:${new URL(platform.url).port}/`);

    const res = await invoke(platform.url, 'hello');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((JSON.parse(res.text) as Echo).env, { GREETING: 'hi', X: 'a=b' });
  });

  it('uploads a single file as is; --json prints the function with the defaults', async () => {
    const r = await run(['deploy', 'single.js', '--name', 'single', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Uploading single\.js \(\d+ B\)…$/m);
    const fn = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(fn, await getFunction('single'));
    assert.equal(fn['name'], 'single');
    assert.equal(fn['version'], 1);
    assert.equal(fn['handler'], 'single.js');
    // The package id is the sha256 of the upload: the file's own bytes, not an archive of it.
    assert.equal(fn['package'], createHash('sha256').update(SINGLE).digest('hex'));
    // Nothing but the package was sent: every setting is the platform's default.
    assert.deepEqual(
      [fn['env'], fn['timeout'], fn['memory'], fn['idleTimeout'], fn['concurrency'], fn['maxInstances']],
      [{}, 30, 256, 300, 64, 10],
    );
    const res = await invoke(platform.url, 'single');
    assert.equal(res.text, 'single');
  });

  it('a second deploy makes a new version', async () => {
    const r = await run(['deploy', 'single.js', '--name', 'single']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Deployed single (version 2, node, handler single.js)\n${platform.url}/fn/single\n`);
    assert.equal((await getFunction('single'))['version'], 2);
  });

  it('refuses bad flags locally with exit 2, connecting nowhere', async () => {
    const wire = await rawServer();
    try {
      const deploy = (args: string[]) => runInProcess(['deploy', ...args, '--url', wire.url], { cwd: dir });
      const cases: [string[], RegExp][] = [
        [['--env', 'FOO'], /--env needs KEY=VALUE/],
        [['--memory', 'lots'], /--memory must be a number of MB/],
        [['--timeout', '2h'], /--timeout must be between 100ms and 1h/],
        [['--runtime', 'ruby'], /Allowed choices are node, python/],
        [['--concurrency', '0'], /--concurrency must be between 1 and 1000/],
        [['--max-retries', '21'], /--max-retries must be between 0 and 20/],
        [['--retry-delay', '10m'], /--retry-delay must be between 100ms and 5m/],
        [['--max-event-age', 'forever'], /--max-event-age must be a duration/],
        [['--async-concurrency', '10001'], /--async-concurrency must be between 0 and 10000/],
        [['--on-success', 'Not_A_Name'], /invalid function name/],
      ];
      for (const [flags, message] of cases) {
        const r = await deploy(['app', '--name', 'hello', ...flags]);
        assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      // Without --name the folder names the function; a folder name with nothing usable is refused.
      await mkdir(join(dir, '___'), { recursive: true });
      const noName = await deploy(['___']);
      assert.equal(noName.code, 2);
      assert.match(noName.stderr, /Cannot make a function name from "___": pass one with --name/);
      const badName = await deploy(['app', '--name', 'Bad_Name']);
      assert.equal(badName.code, 2);
      assert.match(badName.stderr, /invalid function name/);
      assert.equal(wire.connections(), 0);
    } finally {
      await wire.close();
    }
  });

  it('sends the async settings; get --json shows them, a later deploy keeps them, and --on-failure "" removes the destination', async () => {
    await writeTree(dir, { 'async/index.js': SINGLE });
    const refused = await run(['deploy', 'async', '--name', 'queued', '--on-failure', 'nobody']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error \[INVALID_REQUEST\]: onFailure: no function named "nobody" is deployed; deploy it first/m);
    const itself = await run(['deploy', 'async', '--name', 'queued', '--on-success', 'queued']);
    assert.equal(itself.code, 1);
    assert.match(itself.stderr, /^Error \[INVALID_REQUEST\]: onSuccess: "queued" cannot be its own destination/m);

    const r = await run([
      'deploy', 'async', '--name', 'queued', '--async-concurrency', '3', '--max-retries', '5', '--retry-delay', '1.5s', '--max-event-age', '2d',
      '--on-success', 'single', '--on-failure', 'hello',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const asyncOf = (fn: Record<string, unknown>) => Object.fromEntries(['asyncConcurrency', 'maxRetries', 'retryDelay', 'maxEventAge', 'onSuccess', 'onFailure'].map((k) => [k, fn[k]]));
    const shown = async () => {
      const got = await run(['get', 'queued', '--json']);
      assert.equal(got.code, 0, got.stderr);
      return asyncOf(JSON.parse(got.stdout) as Record<string, unknown>);
    };
    assert.deepEqual(await shown(), { asyncConcurrency: 3, maxRetries: 5, retryDelay: 1.5, maxEventAge: 172_800, onSuccess: 'single', onFailure: 'hello' });
    const human = await run(['get', 'queued']);
    assert.match(human.stdout, /^async concurrency: +3$/m);
    assert.match(human.stdout, /^max retries: +5$/m);
    assert.match(human.stdout, /^retry delay: +1\.5s$/m);
    assert.match(human.stdout, /^max event age: +2d$/m);
    assert.match(human.stdout, /^on success: +single$/m);
    assert.match(human.stdout, /^on failure: +hello$/m);

    // Left out: kept. An empty destination: removed (the key is gone from the view).
    const again = await run(['deploy', 'async', '--name', 'queued', '--memory', '128', '--on-failure', '']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await shown(), { asyncConcurrency: 3, maxRetries: 5, retryDelay: 1.5, maxEventAge: 172_800, onSuccess: 'single', onFailure: undefined });
    assert.doesNotMatch((await run(['get', 'queued'])).stdout, /^on failure:/m);
    assert.equal((await run(['rm', 'queued'])).code, 0);
  });

  it('a missing path is an error naming it', async () => {
    const r = await run(['deploy', 'nope', '--name', 'x']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: No such file or folder: nope\n');
  });

  it("prints the platform's errors as Error [CODE]: message, and changes nothing", async () => {
    const r = await run(['deploy', 'app', '--name', 'hello', '--handler', 'missing.js']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error \[HANDLER_NOT_FOUND\]: No source file for the handler "missing\.js" in the package\b.*$/m);
    assert.equal(r.stdout, '');
    assert.equal((await getFunction('hello'))['version'], 1);
  });
});

describe('invoke', () => {
  it('sends data, headers, method and sub-path, and prints the body', async () => {
    const r = await run(['invoke', 'hello', '--data', '{"a":1}', '-H', 'X-Test: yes', '-H', 'x-test: again', '--path', 'sub/path?q=1']);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout) as Echo;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/sub/path');
    assert.equal(echo.query, '?q=1');
    assert.equal(echo.body, '{"a":1}');
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.equal(echo.headers['x-test'], 'yes, again');
  });

  it('uses GET without data, and the method given', async () => {
    const get = await run(['invoke', 'hello']);
    assert.equal(get.code, 0, get.stderr);
    assert.equal((JSON.parse(get.stdout) as Echo).method, 'GET');
    const put = await run(['invoke', 'hello', '-X', 'put', '-d', 'x']);
    assert.equal(put.code, 0, put.stderr);
    const echo = JSON.parse(put.stdout) as Echo;
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.body, 'x');
    assert.equal(echo.headers['content-type'], 'text/plain; charset=utf-8');
  });

  it('round-trips binary bodies byte for byte (file and stdin)', async () => {
    const bytes = randomBytes(300_000);
    await writeFile(join(dir, 'blob.bin'), bytes);
    const r = await run(['invoke', 'hello', '--data-file', 'blob.bin', '--path', '/echo-bytes', '--include']);
    assert.equal(r.code, 0, r.stderr);
    const split = r.stdoutBytes.indexOf('\n\n');
    assert.ok(split > 0, 'no blank line after the headers');
    const head = r.stdoutBytes.subarray(0, split).toString('utf8');
    assert.match(head, /^x-request-content-type: application\/octet-stream$/m);
    assert.match(head, new RegExp(`^x-request-content-length: ${bytes.length}$`, 'm'));
    assert.ok(r.stdoutBytes.subarray(split + 2).equals(bytes), 'response bytes differ');

    const small = randomBytes(1000);
    const s = await run(['invoke', 'hello', '--data-file', '-', '--path', '/echo-bytes'], { stdin: small });
    assert.equal(s.code, 0, s.stderr);
    assert.ok(s.stdoutBytes.equals(small), 'stdin bytes differ');
  });

  it('--include prints the status line and headers first', async () => {
    const r = await run(['invoke', 'hello', '--include']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(r.stdout, /^x-nimbus-invocation-id: [0-9a-f-]{36}$/m);
    assert.match(r.stdout, /^content-type: application\/json$/m);
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
    assert.equal(r.stderr, 'Error: HTTP 404 [FUNCTION_NOT_FOUND]: No function named "nope" is deployed. Deploy it with: nimbus deploy <path> --name nope\n');

    // It answers /warm, and never anything else: the timeout is then measured on a warm instance,
    // not eaten by a cold start on a loaded machine (which would be FUNCTION_OVERLOADED).
    await writeTree(dir, { 'slow.js': 'export default (req) => (new URL(req.url).pathname === "/warm" ? new Response("ok") : new Promise(() => {}))\n' });
    const deployed = await run(['deploy', 'slow.js', '--name', 'slow', '--timeout', '1s']);
    assert.equal(deployed.code, 0, deployed.stderr);
    try {
      for (let tries = 0; tries < 10 && (await run(['invoke', 'slow', '--path', '/warm'])).code !== 0; tries++);
      const t = await run(['invoke', 'slow']);
      assert.equal(t.code, 1);
      assert.equal(t.stdout, '');
      assert.match(t.stderr, /^Error: HTTP 504 \[FUNCTION_TIMEOUT\]: "slow" did not answer within its timeout of 1s; the instance was recycled\.$/m);
      assert.match(t.stderr, /^See what the function logged with: nimbus logs slow --since 5m$/m);
    } finally {
      assert.equal((await run(['rm', 'slow'])).code, 0);
    }
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
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout) as Echo;
    assert.equal(echo.headers['authorization'], undefined);
    const env = await run(['invoke', 'hello'], { env: { NIMBUS_TOKEN: 'secret' } });
    assert.equal((JSON.parse(env.stdout) as Echo).headers['authorization'], undefined);
  });
});

describe('ls, get, rm', () => {
  it('ls prints a table, --json the functions array', async () => {
    const r = await run(['ls']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0]!, /^NAME +RUNTIME +VERSION +INSTANCES +TIMEOUT +MEMORY +UPDATED$/);
    assert.match(lines[1]!, /^hello +node +1 +\d+ +10s +512 MB +(just now|\d+s ago)$/);
    assert.match(lines[2]!, /^single +node +2 +\d+ +30s +256 MB +(just now|\d+s ago)$/);
    const j = await run(['ls', '--json']);
    const list = JSON.parse(j.stdout) as { name: string }[];
    assert.deepEqual(list.map((f) => f.name), ['hello', 'single']);
    const res = await api(platform.url, 'GET', '/api/v1/functions');
    assert.deepEqual(list, res.json!['functions']);
  });

  it('get shows the settings, --json the object', async () => {
    const r = await run(['get', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^timeout: +10s$/m);
    assert.match(r.stdout, /^memory: +512 MB$/m);
    assert.match(r.stdout, /^idle timeout: +10m$/m);
    assert.match(r.stdout, /^concurrency: +4$/m);
    assert.match(r.stdout, /^max instances: +3$/m);
    assert.match(r.stdout, /^env: +GREETING=hi\n +X=a=b$/m);
    assert.match(r.stdout, new RegExp(`^url: +${platform.url}/fn/hello$`, 'm'));
    const j = await run(['get', 'hello', '--json']);
    assert.deepEqual(JSON.parse(j.stdout), await getFunction('hello'));
  });

  it('sends the bearer token from --token or NIMBUS_TOKEN to the API', async () => {
    // The platform accepts requests carrying its token…
    const ok = await runInProcess(['get', 'hello', '--url', platform.url, '--token', platform.token], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    // …and what went on the wire, seen by a TCP server that records the request and hangs up.
    const wire = await rawServer();
    try {
      const get = (options: Parameters<typeof runInProcess>[1] = {}) => runInProcess(['get', 'hello', '--url', wire.url], { cwd: dir, ...options });
      assert.equal((await runInProcess(['get', 'hello', '--url', wire.url, '--token', 'abc'])).code, 1);
      assert.equal((await get({ env: { NIMBUS_TOKEN: 'from-env' } })).code, 1);
      assert.equal((await get()).code, 1);
      assert.equal(wire.heads.length, 3, wire.heads.join('\n---\n'));
      assert.match(wire.heads[0]!, /^GET \/api\/v1\/functions\/hello HTTP\/1\.1\r$/m);
      assert.match(wire.heads[0]!, /^authorization: Bearer abc\r?$/im);
      assert.match(wire.heads[1]!, /^authorization: Bearer from-env\r?$/im);
      assert.doesNotMatch(wire.heads[2]!, /^authorization:/im);
    } finally {
      await wire.close();
    }
  });

  it('takes the address from NIMBUS_URL', async () => {
    const io = memoryIO({ env: { NIMBUS_URL: platform.url, NIMBUS_TOKEN: platform.token } });
    assert.equal(await runCli(['ls', '--json'], io), 0);
    assert.deepEqual((JSON.parse(io.stdoutText()) as { name: string }[]).map((f) => f.name), ['hello', 'single']);
    // A platform that was not typed on the command line is named, on stderr.
    assert.equal(io.stderrText(), `Platform: ${platform.url} (from NIMBUS_URL)\n`);
  });

  it('rm removes, and then the function is FUNCTION_NOT_FOUND', async () => {
    const r = await run(['rm', 'single']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Removed single, with its queued async invocations and invocation records\n');
    assert.equal((await api(platform.url, 'GET', '/api/v1/functions/single')).status, 404);
    const again = await run(['get', 'single']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'Error [FUNCTION_NOT_FOUND]: No function named "single" is deployed. See the list with: nimbus ls\n');
    const rmAgain = await run(['rm', 'single']);
    assert.equal(rmAgain.code, 1);
    assert.equal(rmAgain.stderr, again.stderr);
    const ls = await run(['ls', '--json']);
    assert.deepEqual((JSON.parse(ls.stdout) as { name: string }[]).map((f) => f.name), ['hello']);
  });
});

describe('logs', () => {
  /** The invocation id of the call that logged 'oops'. */
  let oopsId: string;

  before(async () => {
    const res = await invoke(platform.url, 'hello/oops');
    assert.equal(res.status, 200, res.text);
    oopsId = String(res.headers['x-nimbus-invocation-id']);
    await eventually(async () => {
      const r = await run(['logs', 'hello']);
      return r.stdout.includes('oops');
    });
  });

  it('prints human lines: time, short invocation id (- at module load), [stdout] or [stderr]', async () => {
    const r = await run(['logs', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    // 'loaded' twice: the deploy's check of the code loaded it once, the first instance again.
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} - +\[stdout\] loaded$/);
    assert.match(lines[1]!, /^\d\d:\d\d:\d\d\.\d{3} - +\[stdout\] loaded$/);
    assert.equal(lines[2]!.slice(13), `${oopsId.slice(0, 8)} [stderr] oops`);
    assert.match(lines[2]!, /^\d\d:\d\d:\d\d\.\d{3} /);
  });

  it('--json prints NDJSON', async () => {
    const r = await run(['logs', 'hello', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const entries = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      entries.map(({ time, ...rest }) => (assert.match(String(time), /^\d{4}-\d\d-\d\dT/), rest)),
      [
        { function: 'hello', invocationId: null, stream: 'stdout', message: 'loaded' },
        { function: 'hello', invocationId: null, stream: 'stdout', message: 'loaded' },
        { function: 'hello', invocationId: oopsId, stream: 'stderr', message: 'oops' },
      ],
    );
  });

  it('--invocation prints the lines of that invocation only', async () => {
    const r = await run(['logs', 'hello', '--invocation', oopsId]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.slice(13), `${oopsId.slice(0, 8)} [stderr] oops\n`);
    const other = await run(['logs', 'hello', '--invocation', 'no-such-invocation']);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(other.stdout, '');
  });

  it('passes --since and --limit to the platform', async () => {
    const all = await run(['logs', 'hello', '--json']);
    const oops = JSON.parse(all.stdout.trimEnd().split('\n')[2]!) as { time: string; message: string };
    const limited = await run(['logs', 'hello', '--since', '10m', '--limit', '1']);
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stdout, /^[^\n]+ \[stderr\] oops\n$/);
    const since = await run(['logs', 'hello', '--since', oops.time, '--json']);
    assert.equal(since.code, 0, since.stderr);
    assert.deepEqual(since.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { message: string }).message), ['oops']);
    const later = new Date(Date.parse(oops.time) + 1).toISOString();
    const none = await run(['logs', 'hello', '--since', later]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, '');
  });

  it('--follow prints past lines, streams new ones until Ctrl-C, then exits 0', async () => {
    const io = memoryIO({ cwd: dir, env: { NIMBUS_TOKEN: platform.token } });
    const done = runCli(['logs', 'hello', '--follow', '--json', '--url', platform.url], io);
    try {
      // Past lines are written once the stream is subscribed, so a new line cannot be missed.
      await eventually(async () => io.stdoutText().includes('"oops"'), 20_000, 10);
      const res = await invoke(platform.url, 'hello/say', { body: 'live line' });
      assert.equal(res.status, 200, res.text);
      await eventually(async () => io.stdoutText().includes('live line'), 20_000, 10);
    } finally {
      io.signal('SIGINT');
    }
    assert.equal(await done, 0, io.stderrText());
    const entries = io.stdoutText().trimEnd().split('\n').map((l) => JSON.parse(l) as { message: string; invocationId: string | null });
    assert.deepEqual(entries.map((e) => e.message), ['loaded', 'loaded', 'oops', 'live line']);
    assert.ok(entries[3]!.invocationId);
  });

  it('refuses a bad --since with exit 2', async () => {
    const r = await run(['logs', 'hello', '--since', 'yesterday']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--since must be a duration/);
  });

  it('a missing function is FUNCTION_NOT_FOUND', async () => {
    const r = await run(['logs', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error [FUNCTION_NOT_FOUND]: No function named "nope" is deployed. See the list with: nimbus ls\n');
    const follow = await run(['logs', 'nope', '--follow']);
    assert.equal(follow.code, 1);
    assert.equal(follow.stderr, r.stderr);
  });

  it('shows terminal escapes a function printed as visible text, and --json keeps them raw', async () => {
    const hostile = '\u001b[2J\u001b]0;title\u0007 \r\u001b[K[stderr] forged \u009b2J';
    const res = await invoke(platform.url, 'hello/say', { body: hostile });
    assert.equal(res.status, 200, res.text);
    await eventually(async () => (await run(['logs', 'hello', '--json'])).stdout.includes('forged'));
    const human = await run(['logs', 'hello']);
    assert.equal(human.code, 0, human.stderr);
    const line = human.stdout.trimEnd().split('\n').at(-1)!;
    assert.doesNotMatch(human.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character reaches the terminal');
    assert.match(line, / \[stdout\] \\x1b\[2J\\x1b\]0;title\\a \\r\\x1b\[K\[stderr\] forged \\x9b2J$/);
    const json = await run(['logs', 'hello', '--json']);
    assert.doesNotMatch(json.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const last = JSON.parse(json.stdout.trimEnd().split('\n').at(-1)!) as { message: string; stream: string };
    assert.equal(last.message, hostile);
    assert.equal(last.stream, 'stdout');
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
    const sockets = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      setTimeout(() => socket.destroy(), 50);
    });
    try {
      const r = await runInProcess(['invoke', 'x', '--url', sockets.url]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, 'partial');
      assert.match(r.stderr, new RegExp(`^Error: Lost the connection to Nimbus at ${sockets.url} before the answer was complete \\(\\w+\\)\\.$`, 'm'));
      const ls = await runInProcess(['ls', '--url', sockets.url]);
      assert.equal(ls.code, 1);
      assert.match(ls.stderr, /Lost the connection to Nimbus/);
    } finally {
      await sockets.close();
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
    assert.equal(tty.code, 0, tty.stderr);
    assert.match(tty.stdout, /\u001b\[1mNAME/);
    const noColor = await run(['ls'], { tty: true, env: { NO_COLOR: '1' } });
    assert.doesNotMatch(noColor.stdout, /\u001b\[/);
    const piped = await run(['ls']);
    assert.doesNotMatch(piped.stdout, /\u001b\[/);
  });
});
