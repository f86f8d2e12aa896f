/**
 * The async commands run in-process against a stub of the async HTTP API (node:http on port 0):
 * what goes on the wire, how scripted statuses are waited for and printed, exit codes, and the
 * purge confirmation. Cases the real platform cannot be made to produce on demand (a binary
 * body, a platform that ignores `Prefer`, a newer error code) are only here;
 * async.test.ts runs the commands against the real platform.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { InvocationView } from '../../src/api/wire.js';
import { runCli } from '../../src/cli/program.js';
import { confirm } from '../../src/cli/confirm.js';
import { memoryIO, runInProcess } from './helpers.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x0a, 0x80]);

function view(id: string, overrides: Partial<InvocationView> = {}): InvocationView {
  return {
    id,
    function: 'echo',
    source: 'async',
    httpStatus: null,
    metering: null,
    version: 1,
    status: 'queued',
    attempts: 0,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    nextAttemptAt: null,
    error: null,
    response: null,
    request: { method: 'POST', path: '/' },
    trigger: null,
    ...overrides,
  };
}

const ended = (id: string, overrides: Partial<InvocationView>): InvocationView =>
  view(id, { attempts: 1, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString(), ...overrides });

/** What GET /api/v1/invocations/{id} answers, call after call (the last one stays). */
const scripts = new Map<string, InvocationView[]>();
/** Dead letters by function, for redrive and purge. */
const deadLetters = new Map<string, string[]>();
const seen: Seen[] = [];
let server: Server;
let url: string;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } }, { 'x-nimbus-error': code });
}

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const u = new URL(req.url!, 'http://stub');
  const path = u.pathname;
  let m: RegExpExecArray | null;
  if ((m = /^\/fn\/([^/]+)/.exec(path))) {
    if (m[1] === 'nope') return error(res, 404, 'FUNCTION_NOT_FOUND', 'No function named "nope" is deployed.');
    if (m[1] === 'old' || req.headers['prefer'] !== 'respond-async') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ran synchronously');
    }
    const id = `inv-${m[1]}`;
    return json(res, 202, { id, status: 'queued' }, { 'x-nimbus-invocation-id': id, location: `/api/v1/invocations/${id}` });
  }
  if ((m = /^\/api\/v1\/invocations\/([^/]+)$/.exec(path))) {
    const script = scripts.get(decodeURIComponent(m[1]!));
    if (!script) return error(res, 404, 'INVOCATION_NOT_FOUND', `No invocation ${m[1]}.`);
    return json(res, 200, script.length > 1 ? script.shift() : script[0]);
  }
  if (path === '/api/v1/invocations') {
    const fn = u.searchParams.get('function');
    const status = u.searchParams.get('status');
    const all = [...scripts.values()].map((s) => s.at(-1)!).filter((v) => (!fn || v.function === fn) && (!status || v.status === status));
    const start = Number(u.searchParams.get('cursor') ?? 0);
    const limit = Number(u.searchParams.get('limit') ?? 100);
    const page = all.slice(start, start + limit);
    return json(res, 200, { invocations: page, nextCursor: start + limit < all.length ? String(start + limit) : null });
  }
  if ((m = /^\/api\/v1\/functions\/([^/]+)\/dlq\/redrive$/.exec(path)) && req.method === 'POST') {
    const request = JSON.parse(body) as { ids?: string[]; all?: boolean };
    const dead = deadLetters.get(m[1]!) ?? [];
    const redriven = request.all ? dead : dead.filter((id) => request.ids!.includes(id));
    deadLetters.set(m[1]!, dead.filter((id) => !redriven.includes(id)));
    return json(res, 200, { redriven });
  }
  if ((m = /^\/api\/v1\/functions\/([^/]+)\/dlq$/.exec(path)) && req.method === 'DELETE') {
    const purged = (deadLetters.get(m[1]!) ?? []).length;
    deadLetters.set(m[1]!, []);
    return json(res, 200, { purged });
  }
  error(res, 404, 'NOT_FOUND', 'No such route.');
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen.length = 0;
  scripts.clear();
  deadLetters.clear();
});

const run = (args: string[], options: Parameters<typeof runInProcess>[1] = {}) =>
  runInProcess([...args, '--url', url], { ...options, env: { NIMBUS_TOKEN: 'tok', ...options.env } });

describe('invoke --async', () => {
  it('queues with Prefer: respond-async and prints only the id', async () => {
    const r = await run(['invoke', 'echo', '--async', '-d', '{"a":1}', '-p', '/run?x=1', '-H', 'X-Test: yes', '--idempotency-key', 'order-7', '--callback-url', 'https://example.com/hook']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'inv-echo\n');
    assert.equal(r.stderr, '');
    assert.equal(seen.length, 1);
    const sent = seen[0]!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/fn/echo/run?x=1');
    assert.equal(sent.body, '{"a":1}');
    assert.equal(sent.headers['prefer'], 'respond-async');
    assert.equal(sent.headers['idempotency-key'], 'order-7');
    assert.equal(sent.headers['x-nimbus-callback-url'], 'https://example.com/hook');
    assert.equal(sent.headers['x-test'], 'yes');
    assert.equal(sent.headers['content-type'], 'application/json');
    // Neither the management token nor the caller token goes with an invocation that is only queued.
    assert.equal(sent.headers['authorization'], undefined);
    assert.equal(sent.headers['x-nimbus-token'], undefined);
  });

  it('--json prints the accepted invocation', async () => {
    const r = await run(['invoke', 'echo', '--async', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { id: 'inv-echo', status: 'queued' });
  });

  it('a refusal prints the code like a sync invoke', async () => {
    const r = await run(['invoke', 'nope', '--async']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Error: HTTP 404 [FUNCTION_NOT_FOUND]: No function named "nope" is deployed.\n');
  });

  it('says so when the platform ran it synchronously (no async support)', async () => {
    const r = await run(['invoke', 'old', '--async']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Error \[ASYNC_UNSUPPORTED\]: The platform answered 200 instead of 202 Accepted: it ran old while waiting/);
  });

  it('refuses flags that need --async or --wait with exit 2, sending nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--idempotency-key', 'k'], /--idempotency-key is for async invocations: add --async/],
      [['--callback-url', 'https://x.example/'], /--callback-url is for async invocations/],
      [['--async', '--timeout', '5s'], /--timeout is how long --wait waits: add --wait/],
      [['--async', '--include'], /--include shows the response, which an --async invocation does not have yet: add --wait/],
      [['--wait', '--timeout', '10ms'], /--timeout must be between 1s and 7d/],
      [['--async', '--callback-url', 'ftp://x'], /--callback-url must be an http:\/\/ or https:\/\/ URL/],
      [['--wait', '--json', '--include'], /cannot be used with/],
    ];
    for (const [flags, message] of cases) {
      const r = await run(['invoke', 'echo', ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, flags.join(' '));
    }
    assert.equal(seen.length, 0);
  });
});

describe('invoke --wait', () => {
  it('waits through the statuses and prints the body byte for byte (base64 decoded)', async () => {
    scripts.set('inv-echo', [
      view('inv-echo'),
      view('inv-echo', { status: 'running', attempts: 1 }),
      view('inv-echo', { status: 'retrying', attempts: 1, error: { code: 'FUNCTION_CRASHED', message: 'x' }, nextAttemptAt: new Date().toISOString() }),
      ended('inv-echo', {
        status: 'succeeded',
        attempts: 2,
        response: { status: 200, headers: { 'content-type': 'image/png' }, body: BINARY.toString('base64'), bodyEncoding: 'base64', truncated: false },
      }),
    ]);
    const io = memoryIO({ env: { NIMBUS_TOKEN: 'tok', NO_COLOR: '1' } });
    io.stderrIsTTY = true;
    const code = await runCli(['invoke', 'echo', '--wait', '--url', url], io);
    assert.equal(code, 0, io.stderrText());
    assert.ok(io.stdoutBytes().equals(BINARY), 'the body differs');
    const progress = io.stderrText().split('\n');
    assert.equal(progress[0], 'Waiting for invocation inv-echo (Ctrl-C stops waiting, not the invocation)');
    const changes = progress.slice(1, -1).map((line) => line.replace(/^ {2}\d\d:\d\d:\d\d\.\d{3} /, ''));
    assert.equal(changes.length, 4, io.stderrText());
    assert.deepEqual([changes[0], changes[1], changes[3]], ['queued', 'running (attempt 1)', 'succeeded after 2 attempts']);
    assert.match(changes[2]!, /^retrying: attempt 1 ended with \[FUNCTION_CRASHED\]; next at \d\d:\d\d:\d\d \(now\)$/);
    // The polls carried the management token; the invocation did not.
    const polls = seen.filter((s) => s.url === '/api/v1/invocations/inv-echo');
    assert.equal(polls.length, 4);
    assert.ok(polls.every((p) => p.headers['authorization'] === 'Bearer tok'));
  });

  it('prints no progress when stderr is not a terminal; --include shows status and headers', async () => {
    scripts.set('inv-echo', [ended('inv-echo', { status: 'succeeded', response: { status: 201, headers: { 'x-a': ['1', '2'] }, body: 'made', bodyEncoding: 'utf8', truncated: true } })]);
    const r = await run(['invoke', 'echo', '--wait', '--include']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HTTP/1.1 201 Created\nx-a: 1\nx-a: 2\n\nmade');
    assert.equal(r.stderr, 'Note: the body is cut short: the function answered more than the platform keeps of an async response.\n');
  });

  it('exits 1 on a dead letter, with the code and how to redrive it; --json prints the invocation', async () => {
    const deadView = ended('inv-echo', { status: 'dead', attempts: 3, error: { code: 'FUNCTION_ERROR', message: 'boom' } });
    scripts.set('inv-echo', [deadView]);
    const r = await run(['invoke', 'echo', '--wait']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      [
        'Error: HTTP 502 [FUNCTION_ERROR]: boom',
        'Invocation inv-echo is a dead letter after 3 attempts: queue it again with: nimbus dlq redrive echo --id inv-echo',
        'See what the function logged with: nimbus logs echo --since 5m',
        '',
      ].join('\n'),
    );
    const j = await run(['invoke', 'echo', '--wait', '--json']);
    assert.equal(j.code, 1);
    assert.deepEqual(JSON.parse(j.stdout), deadView);
  });

  it("exits 1 on the function's 4xx, its body on stdout", async () => {
    scripts.set('inv-echo', [ended('inv-echo', { status: 'failed', response: { status: 418, headers: {}, body: 'short and stout', bodyEncoding: 'utf8', truncated: false } })]);
    const r = await run(['invoke', 'echo', '--wait']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'short and stout');
    assert.equal(r.stderr, "Error: HTTP 418 I'm a Teapot\nInvocation inv-echo failed after 1 attempt: a 4xx answer (other than 429) is not retried.\n");
  });

  it('gives up at --timeout, naming the id and how to wait again', async () => {
    scripts.set('inv-echo', [view('inv-echo')]);
    const started = Date.now();
    const r = await run(['invoke', 'echo', '--wait', '--timeout', '1s']);
    assert.ok(Date.now() - started >= 1_000);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: Gave up waiting after 1s (--timeout): invocation inv-echo has not ended (queued). It goes on; wait again with: nimbus invocations get inv-echo --wait\n');
  });

  it('Ctrl-C stops the wait with exit 130, not the invocation', async () => {
    scripts.set('inv-echo', [view('inv-echo', { status: 'running', attempts: 1 })]);
    const io = memoryIO({ env: { NIMBUS_TOKEN: 'tok' } });
    const done = runCli(['invoke', 'echo', '--wait', '--url', url], io);
    while (!seen.some((s) => s.url === '/api/v1/invocations/inv-echo')) await new Promise((r) => setTimeout(r, 10));
    io.signal('SIGINT');
    assert.equal(await done, 130);
    assert.equal(io.stderrText(), 'Stopped waiting. Invocation inv-echo goes on (running); see it with: nimbus invocations get inv-echo\n');
  });
});

describe('invocations', () => {
  it('ls prints a table; --json the array; a note when there are more', async () => {
    for (let i = 0; i < 3; i++) scripts.set(`inv-${i}`, [ended(`inv-${i}`, { status: 'succeeded', response: { status: 200, headers: {}, body: '', bodyEncoding: 'utf8', truncated: false } })]);
    const r = await run(['invocations', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID +FUNCTION +SOURCE +STATUS +ATTEMPTS +CREATED +DURATION +START +RESULT$/);
    assert.match(lines[1]!, /^inv-0 +echo +async +succeeded +1 +just now +- +200$/);
    assert.equal(lines.length, 4);
    const limited = await run(['inv', 'ls', 'echo', '--limit', '2', '--json']);
    assert.equal(limited.code, 0, limited.stderr);
    assert.deepEqual((JSON.parse(limited.stdout) as InvocationView[]).map((v) => v.id), ['inv-0', 'inv-1']);
    assert.equal(limited.stderr, 'Showing the newest 2; see more with --limit <n> or --all\n');
    assert.match(seen.at(-1)!.url, /^\/api\/v1\/invocations\?function=echo&limit=2$/);
    const none = await run(['invocations', 'ls', '--status', 'dead']);
    assert.equal(none.stdout, 'No dead invocations.\n');
    const filtered = await run(['invocations', 'ls', '--function', 'echo', '--source', 'http', '--status', 'failed', '--since', '1h', '--until', '2026-12-01']);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.match(seen.at(-1)!.url, /^\/api\/v1\/invocations\?function=echo&status=failed&source=http&since=1h&until=2026-12-01&limit=100$/);
    const badSince = await run(['invocations', 'ls', '--since', 'yesterday']);
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /--since must be a duration back from now/);
    const bad = await run(['invocations', 'ls', '--status', 'lost']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are queued, running, retrying, succeeded, failed, dead/);
  });

  it('get prints the block, --json the object, --body the bytes', async () => {
    const done = ended('inv-9', { status: 'succeeded', response: { status: 200, headers: {}, body: BINARY.toString('base64'), bodyEncoding: 'base64', truncated: false } });
    scripts.set('inv-9', [done]);
    const r = await run(['invocations', 'get', 'inv-9']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^id: +inv-9$/m);
    assert.match(r.stdout, /^body: +\(binary, 8 B\)$/m);
    assert.deepEqual(JSON.parse((await run(['invocations', 'get', 'inv-9', '--json'])).stdout), done);
    const body = await run(['invocations', 'get', 'inv-9', '--body']);
    assert.ok(body.stdoutBytes.equals(BINARY));
    const missing = await run(['invocations', 'get', 'inv-x']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error [INVOCATION_NOT_FOUND]: No invocation inv-x.\n');
    // An id typed by hand is not waited for: unknown is an error at once.
    const started = Date.now();
    const waited = await run(['invocations', 'get', 'inv-x', '--wait']);
    assert.equal(waited.code, 1);
    assert.equal(waited.stderr, missing.stderr);
    assert.ok(Date.now() - started < 2_000);
    scripts.set('inv-q', [view('inv-q')]);
    const pending = await run(['invocations', 'get', 'inv-q', '--body']);
    assert.equal(pending.code, 1);
    assert.equal(pending.stderr, 'Error: Invocation inv-q has no response yet (queued): wait for it with: nimbus invocations get inv-q --wait --body\n');
  });
});

describe('dlq', () => {
  it('redrive prints what was queued again; ids that were not are an error', async () => {
    deadLetters.set('echo', ['d1', 'd2', 'd3']);
    const some = await run(['dlq', 'redrive', 'echo', '--id', 'd1', '--id', 'nope']);
    assert.equal(some.code, 1);
    assert.equal(some.stdout, 'Queued 1 dead letter of echo again:\n  d1\n');
    assert.equal(some.stderr, 'Error: Not queued again, not dead letters of echo (any more): nope. See them with: nimbus dlq ls echo\n');
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { ids: ['d1', 'nope'] });
    const all = await run(['dlq', 'redrive', 'echo', '--all']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'Queued 2 dead letters of echo again:\n  d2\n  d3\n');
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { all: true });
    const none = await run(['dlq', 'redrive', 'echo', '--all', '--json']);
    assert.deepEqual(JSON.parse(none.stdout), { redriven: [] });
    const neither = await run(['dlq', 'redrive', 'echo']);
    assert.equal(neither.code, 2);
    const both = await run(['dlq', 'redrive', 'echo', '--all', '--id', 'd1']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--id <id> \(repeatable\) or --all/);
  });

  it('purge needs --yes when stdin is not a terminal, asks on one', async () => {
    deadLetters.set('echo', ['d1', 'd2']);
    scripts.set('d1', [ended('d1', { status: 'dead' })]);
    scripts.set('d2', [ended('d2', { status: 'dead' })]);
    const piped = await run(['dlq', 'purge', 'echo'], { stdin: 'y\n' });
    assert.equal(piped.code, 2);
    assert.match(piped.stderr, /pass --yes to confirm \(stdin is not a terminal, so it cannot ask\)/);
    assert.equal(seen.length, 0);

    const ask = async (answer: string) => {
      const io = memoryIO({ env: { NIMBUS_TOKEN: 'tok' }, stdin: answer });
      io.stdinIsTTY = true;
      const code = await runCli(['dlq', 'purge', 'echo', '--url', url], io);
      return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
    };
    const no = await ask('n\n');
    assert.equal(no.code, 1);
    assert.equal(no.stderr, 'Delete the 2 dead letters of echo? They cannot be redriven afterwards. [y/N] Error: Nothing was deleted.\n');
    assert.ok(!seen.some((s) => s.method === 'DELETE'));
    const yes = await ask('yes\n');
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(yes.stdout, 'Deleted 2 dead letters of echo.\n');
    const forced = await run(['dlq', 'purge', 'echo', '--yes', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(JSON.parse(forced.stdout), { purged: 0 });
  });

  it('ls lists the dead ones', async () => {
    scripts.set('d1', [ended('d1', { status: 'dead', attempts: 3, error: { code: 'FUNCTION_TIMEOUT', message: 'slow' } })]);
    scripts.set('ok', [ended('ok', { status: 'succeeded' })]);
    const r = await run(['dlq', 'ls', 'echo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^d1 +echo +dead +3 +just now +just now +FUNCTION_TIMEOUT$/m);
    assert.doesNotMatch(r.stdout, /^ok /m);
    assert.match(seen.at(-1)!.url, /status=dead/);
    scripts.clear();
    assert.equal((await run(['dlq', 'ls'])).stdout, 'No dead letters.\n');
  });
});

describe('confirm', () => {
  it('is yes only for y or yes; the end of input is a no', async () => {
    for (const [input, expected] of [['y\n', true], ['YES\r\n', true], ['\n', false], ['no\n', false], ['', false], ['y', true]] as const) {
      const io = memoryIO({ stdin: input });
      assert.equal(await confirm(io, 'Sure?'), expected, JSON.stringify(input));
      assert.equal(io.stderrText(), 'Sure? [y/N] ');
    }
  });
});
