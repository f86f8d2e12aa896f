/**
 * The async commands in-process (runCli) against the real platform (startServer, in this
 * process, on a temp data dir): invoke --async and --wait, invocations ls/get, dlq
 * ls/redrive/purge, and what nimbus rm takes with it. async-stub.test.ts covers what the platform
 * cannot be made to produce on demand.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InvocationView } from '../../src/api/wire.js';
import { startPlatform, waitFor, type TestPlatform } from '../integration/harness.js';
import { removeDir, runInProcess, tempDir, writeTree } from './helpers.js';

/** Echoes the request; /binary echoes the bytes; /teapot answers 418; /throw throws. */
const ECHO = `
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/binary') return new Response(await request.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });
    if (url.pathname === '/teapot') return new Response('short and stout', { status: 418 });
    if (url.pathname === '/throw') throw new Error('boom from the handler');
    return new Response('hello ' + (await request.text()) + ' via ' + request.method + ' ' + url.pathname + url.search, {
      headers: { 'x-attempt': request.headers.get('x-nimbus-attempt') ?? '-' },
    });
  },
};
`;

/** An id as the platform answers it (a UUID), alone on its line. */
const ID_LINE = /^[0-9a-f-]{36}\n$/;

let platform: TestPlatform;
let dir: string;

const run = (args: string[], options: Parameters<typeof runInProcess>[1] = {}) =>
  runInProcess([...args, '--url', platform.url], { cwd: dir, ...options, env: { NIMBUS_TOKEN: platform.token, ...options.env } });

async function getInvocation(id: string): Promise<InvocationView> {
  const r = await run(['invocations', 'get', id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as InvocationView;
}

before(async () => {
  platform = await startPlatform({ host: '127.0.0.1', port: 0 });
  dir = await tempDir();
  await writeTree(dir, { 'echo.js': ECHO });
  // doomed: the same code, retried once, soon, so a dead letter takes a fraction of a second.
  for (const [name, flags] of [['echo', []], ['doomed', ['--max-retries', '1', '--retry-delay', '100ms']]] as const) {
    const r = await run(['deploy', 'echo.js', '--name', name, ...flags]);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await platform?.close();
  if (dir) await removeDir(dir);
});

describe('invoke --async', () => {
  it('prints only the invocation id, and the invocation runs', async () => {
    const r = await run(['invoke', 'echo', '--async', '-d', 'ada', '--path', '/x?y=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, ID_LINE);
    assert.equal(r.stderr, '');
    const id = r.stdout.trim();
    await waitFor(async () => (await getInvocation(id)).status === 'succeeded', 20_000, 'the invocation to succeed');
    const view = await getInvocation(id);
    assert.equal(view.function, 'echo');
    assert.deepEqual(view.request, { method: 'POST', path: '/x?y=1' });
    assert.equal(view.response?.status, 200);
    assert.equal(view.response?.body, 'hello ada via POST /x?y=1');
  });

  it('--json prints the accepted invocation', async () => {
    const r = await run(['invoke', 'echo', '--async', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const accepted = JSON.parse(r.stdout) as { id: string; status: string };
    assert.equal(accepted.status, 'queued');
    assert.match(accepted.id, /^[0-9a-f-]{36}$/);
  });

  it('the same idempotency key queues nothing new', async () => {
    const first = await run(['invoke', 'echo', '--async', '--idempotency-key', 'order-1']);
    const second = await run(['invoke', 'echo', '--async', '--idempotency-key', 'order-1']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.stdout, first.stdout);
  });

  it('a refusal prints the code like a sync invoke', async () => {
    const r = await run(['invoke', 'nope', '--async']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Error: HTTP 404 \[FUNCTION_NOT_FOUND\]: .*nope/);
  });
});

describe('invoke --wait', () => {
  it('prints the body like a sync invoke; --include the status and headers', async () => {
    const r = await run(['invoke', 'echo', '--wait', '-d', 'ada']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello ada via POST /');
    assert.equal(r.stderr, '', 'no progress when stderr is not a terminal');
    const i = await run(['invoke', 'echo', '--wait', '--include']);
    assert.equal(i.code, 0, i.stderr);
    assert.match(i.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(i.stdout, /^x-attempt: 1$/m);
    assert.match(i.stdout, /\n\nhello  via GET \/$/);
  });

  it('round-trips a binary body byte for byte (stored as base64)', async () => {
    const bytes = randomBytes(64 * 1024);
    bytes[0] = 0xff; // never valid UTF-8
    await writeFile(join(dir, 'blob.bin'), bytes);
    const r = await run(['invoke', 'echo', '--wait', '--data-file', 'blob.bin', '--path', '/binary']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdoutBytes.equals(bytes), 'the body differs');
  });

  it("exits 1 when the function answers 4xx (failed, not retried), its body on stdout", async () => {
    const r = await run(['invoke', 'echo', '--wait', '--path', '/teapot']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'short and stout');
    assert.match(r.stderr, /^Error: HTTP 418 I'm a Teapot\nInvocation [0-9a-f-]{36} failed after 1 attempt: /);
  });

  it('--json prints the invocation object', async () => {
    const r = await run(['invoke', 'echo', '--wait', '--json', '-d', 'x']);
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout) as InvocationView;
    assert.equal(view.status, 'succeeded');
    assert.equal(view.response?.body, 'hello x via POST /');
  });
});

describe('invocations and dead letters', () => {
  /** A dead letter of `doomed`, made by --wait on a handler that always throws. */
  let deadId: string;

  before(async () => {
    const r = await run(['invoke', 'doomed', '--wait', '--path', '/throw', '--timeout', '2m']);
    assert.equal(r.code, 1, r.stderr);
    const m = /^Invocation ([0-9a-f-]{36}) is a dead letter after 2 attempts: queue it again with: nimbus dlq redrive doomed --id \1$/m.exec(r.stderr);
    assert.ok(m, r.stderr);
    deadId = m[1]!;
    assert.match(r.stderr, /^Error: HTTP 502 \[FUNCTION_ERROR\]: .*boom from the handler/m);
    assert.match(r.stderr, /^See what the function logged with: nimbus logs doomed --since 5m$/m);
  });

  it('invocations ls prints a table, --json the array, newest first', async () => {
    const r = await run(['invocations', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID +FUNCTION +SOURCE +STATUS +ATTEMPTS +CREATED +DURATION +START +RESULT$/);
    assert.match(r.stdout, new RegExp(`^${deadId} +doomed +async +dead +\\d+ +\\S.* +FUNCTION_ERROR$`, 'm'));
    const j = await run(['inv', 'ls', 'echo', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const list = JSON.parse(j.stdout) as InvocationView[];
    assert.ok(list.length >= 5);
    assert.ok(list.every((v) => v.function === 'echo'));
    const created = list.map((v) => Date.parse(v.createdAt));
    assert.deepEqual(created, [...created].sort((a, b) => b - a));
    const limited = await run(['invocations', 'ls', 'echo', '--limit', '2', '--json']);
    assert.equal((JSON.parse(limited.stdout) as unknown[]).length, 2);
    assert.equal(limited.stderr, 'Showing the newest 2; see more with --limit <n> or --all\n');
  });

  it('invocations get shows the block and --json the object', async () => {
    const r = await run(['invocations', 'get', deadId]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^id: +${deadId}$`, 'm'));
    assert.match(r.stdout, /^status: +dead$/m);
    assert.match(r.stdout, /^error: +\[FUNCTION_ERROR\] /m);
    assert.match(r.stdout, new RegExp(`A dead letter: queue it again with: nimbus dlq redrive doomed --id ${deadId}\\n$`));
    const view = await getInvocation(deadId);
    assert.equal(view.status, 'dead');
    assert.equal(view.error?.code, 'FUNCTION_ERROR');
    const missing = await run(['invocations', 'get', 'no-such-id']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error \[INVOCATION_NOT_FOUND\]: /);
  });

  it('invocations get --logs adds the lines the invocation wrote, in the block and in --json', async () => {
    const r = await run(['invocations', 'get', deadId, '--logs']);
    assert.equal(r.code, 0, r.stderr);
    const block = r.stdout.split(/^logs$/m)[1] ?? '';
    assert.match(block, new RegExp(`^  \\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${deadId.slice(0, 8)} \\[stderr\\] .*boom from the handler`, 'm'));
    const j = await run(['invocations', 'get', deadId, '--logs', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const view = JSON.parse(j.stdout) as InvocationView;
    assert.ok(view.logs && view.logs.length > 0, j.stdout);
    assert.ok(view.logs.every((line) => line.invocationId === deadId && line.function === 'doomed'));
    assert.ok(view.logs.some((line) => line.message.includes('boom from the handler')));
    assert.equal((await getInvocation(deadId)).logs, undefined, 'no logs unless asked');
    const both = await run(['invocations', 'get', deadId, '--logs', '--body']);
    assert.equal(both.code, 2);
  });

  it('dlq ls lists the dead letter; redrive queues it again; purge deletes', async () => {
    const ls = await run(['dlq', 'ls', 'doomed', '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual((JSON.parse(ls.stdout) as InvocationView[]).map((v) => v.id), [deadId]);
    const table = await run(['dlq', 'ls']);
    assert.match(table.stdout, new RegExp(`^${deadId} +doomed +dead `, 'm'));

    const redrive = await run(['dlq', 'redrive', 'doomed', '--id', deadId]);
    assert.equal(redrive.code, 0, redrive.stderr);
    assert.equal(redrive.stdout, `Queued 1 dead letter of doomed again:\n  ${deadId}\n`);
    // It runs again under the same id, and dies again.
    const again = await run(['invocations', 'get', deadId, '--wait', '--timeout', '2m', '--json']);
    assert.equal(again.code, 1);
    assert.equal((JSON.parse(again.stdout) as InvocationView).status, 'dead');

    const piped = await run(['dlq', 'purge', 'doomed']);
    assert.equal(piped.code, 2);
    assert.match(piped.stderr, /pass --yes to confirm/);
    const purge = await run(['dlq', 'purge', 'doomed', '--yes']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal(purge.stdout, 'Deleted 1 dead letter of doomed.\n');
    assert.equal((await run(['dlq', 'ls', 'doomed'])).stdout, 'No dead letters of doomed.\n');
    const gone = await run(['dlq', 'redrive', 'doomed', '--id', deadId]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`Not queued again, not dead letters of doomed \\(any more\\): ${deadId}`));
  });

  it('rm takes the invocation records of the function with it', async () => {
    const r = await run(['invoke', 'doomed', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const id = (JSON.parse((await run(['invocations', 'ls', 'doomed', '--limit', '1', '--json'])).stdout) as InvocationView[])[0]!.id;
    const rm = await run(['rm', 'doomed']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'Removed doomed, with its queued async invocations and invocation records\n');
    const get = await run(['invocations', 'get', id]);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /^Error \[INVOCATION_NOT_FOUND\]: /);
    assert.equal((await run(['invocations', 'ls', 'doomed'])).stdout, 'No invocations of doomed.\n');
  });
});
