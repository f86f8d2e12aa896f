import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { InvocationList } from '../../src/api/wire.js';
import { api, deploy, invoke, startPlatform, type TestPlatform, waitFor } from './harness.js';
import { FLAKY_FUNCTION, invocation, invokeAsync, responseBody, settled } from './async-fixtures.js';

/** A local receiver of callbacks: what it was sent, in order. */
async function callbackReceiver() {
  const received: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
  let failFirst = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    failNext(n: number) {
      failFirst = n;
    },
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}

describe('async invocations', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startPlatform({ maxBodyBytes: 256 * 1024 });
    await deploy(platform.url, 'flaky', FLAKY_FUNCTION, { retryDelay: '100ms', maxRetries: 2 });
  });
  after(() => platform.close());

  test('202 with the id, Location and x-nimbus-invocation-id once stored; the whole request reaches the function, binary-safe', async () => {
    const body = randomBytes(100_000);
    const accepted = await invokeAsync(platform.url, 'flaky/items/7?full=1&x=%C3%A9', { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(accepted.status, 202);
    const id = accepted.json.id!;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(accepted.json.status, 'queued');
    assert.equal(accepted.headers['x-nimbus-invocation-id'], id);
    assert.equal(accepted.headers.location, `/api/v1/invocations/${id}`);
    assert.equal(accepted.headers['preference-applied'], 'respond-async');

    const done = await settled(platform.url, id);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 1);
    assert.equal(done.function, 'flaky');
    assert.equal(done.version, 1);
    assert.deepEqual(done.request, { method: 'PUT', path: '/items/7?full=1&x=%C3%A9' });
    assert.ok(done.startedAt && done.finishedAt && done.createdAt <= done.startedAt && done.startedAt <= done.finishedAt);
    assert.equal(done.response?.status, 200);
    const seen = JSON.parse(responseBody(done).toString()) as { attempt: number; id: string; method: string; path: string; body: string; type: string };
    assert.deepEqual(
      { ...seen, body: Buffer.from(seen.body, 'base64').equals(body) },
      { attempt: 1, id, method: 'PUT', path: '/items/7?full=1&x=%C3%A9', body: true, type: 'application/octet-stream' },
    );
  });

  test('/async/<name>/<path> queues without a header (for webhook senders)', async () => {
    const accepted = await invokeAsync(platform.url, 'flaky/hook?src=github', { via: 'path', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(accepted.status, 202);
    const done = await settled(platform.url, accepted.json.id!);
    assert.equal(done.status, 'succeeded');
    assert.equal(JSON.parse(responseBody(done).toString()).path, '/hook?src=github');
  });

  test('bad input is refused before anything is stored', async () => {
    const before = ((await api(platform.url, 'GET', '/api/v1/invocations?limit=1000')).json as unknown as InvocationList).invocations.length;
    const cases: [string, Parameters<typeof invokeAsync>[2], number, string][] = [
      ['nope', {}, 404, 'FUNCTION_NOT_FOUND'],
      ['flaky', { body: Buffer.alloc(256 * 1024 + 1) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['flaky', { headers: { prefer: 'respond-async; ;; "' } }, 400, 'INVALID_PREFER'],
      ['flaky', { headers: { 'x-nimbus-callback-url': 'ftp://example.com/' } }, 400, 'INVALID_CALLBACK_URL'],
      ['flaky', { headers: { 'x-callback-url': 'not a url' } }, 400, 'INVALID_CALLBACK_URL'],
      ['flaky', { headers: { 'idempotency-key': 'x'.repeat(300) } }, 400, 'INVALID_IDEMPOTENCY_KEY'],
      ['flaky/__nimbus/init', {}, 404, 'NOT_FOUND'],
    ];
    for (const [path, options, status, code] of cases) {
      const res = await invokeAsync(platform.url, path, options);
      assert.equal(res.status, status, `${path} ${JSON.stringify(options?.headers)}`);
      assert.equal(res.headers['x-nimbus-error'], code);
      assert.equal(res.json.error?.code, code);
    }
    const streamed = await invokeAsync(platform.url, 'flaky', { via: 'path', body: Buffer.alloc(300 * 1024) });
    assert.equal(streamed.status, 413);
    // Chunked, without a declared length: counted as it arrives, and still answered 413.
    const chunks = Readable.from(Array.from({ length: 5 }, () => Buffer.alloc(64 * 1024)));
    const chunked = await request(`${platform.url}/fn/flaky`, { method: 'POST', headers: { prefer: 'respond-async' }, body: chunks });
    assert.equal(chunked.statusCode, 413);
    assert.equal(chunked.headers['x-nimbus-error'], 'PAYLOAD_TOO_LARGE');
    await chunked.body.dump();
    const after = ((await api(platform.url, 'GET', '/api/v1/invocations?limit=1000')).json as unknown as InvocationList).invocations.length;
    assert.equal(after, before, 'a refused request stored an invocation');

    const unknown = await api(platform.url, 'GET', '/api/v1/invocations/00000000-0000-0000-0000-000000000000');
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json as { error: { code: string } }).error.code, 'INVOCATION_NOT_FOUND');
    for (const query of ['status=lost', 'limit=0', 'limit=abc', 'cursor=%%%', 'function=Bad_Name']) {
      const res = await api(platform.url, 'GET', `/api/v1/invocations?${query}`);
      assert.equal(res.status, 400, query);
    }
  });

  test('invoke keys apply before anything is stored; logs are tagged with the invocation id', async () => {
    await deploy(platform.url, 'guarded', { file: 'index.js', content: 'export default (req) => { console.log("ran " + req.headers.get("x-nimbus-attempt")); return new Response("ok"); };' }, { auth: 'key' });
    const refused = await invokeAsync(platform.url, 'guarded');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['x-nimbus-error'], 'INVOKE_KEY_REQUIRED');
    const wrong = await invokeAsync(platform.url, 'guarded', { via: 'path', headers: { 'x-nimbus-key': 'nmk_wrong' } });
    assert.equal(wrong.status, 403);
    const listed = (await api(platform.url, 'GET', '/api/v1/invocations?function=guarded')).json as unknown as InvocationList;
    assert.deepEqual(listed.invocations, []);

    const key = (await api(platform.url, 'POST', '/api/v1/functions/guarded/keys', {})).json as unknown as { key: string };
    const accepted = await invokeAsync(platform.url, 'guarded', { headers: { 'x-nimbus-key': key.key } });
    assert.equal(accepted.status, 202);
    assert.equal((await settled(platform.url, accepted.json.id!)).status, 'succeeded');
    await waitFor(async () => {
      const logs = (await api(platform.url, 'GET', '/api/v1/functions/guarded/logs')).json as unknown as { logs: { invocationId: string | null; message: string }[] };
      return logs.logs.some((line) => line.invocationId === accepted.json.id && line.message === 'ran 1');
    }, 10_000, 'the log line tagged with the invocation id');
  });

  test('an idempotency key answers the first invocation and runs the work once', async () => {
    const key = `order-${Date.now()}`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => invokeAsync(platform.url, 'flaky?ms=50', { headers: { 'idempotency-key': key } })));
    const ids = new Set(answers.map((a) => a.json.id));
    assert.equal(ids.size, 1, `ids: ${[...ids].join(', ')}`);
    assert.ok(answers.every((a) => a.status === 202));
    const id = [...ids][0]!;
    await settled(platform.url, id);
    const again = await invokeAsync(platform.url, 'flaky?ms=50', { headers: { 'idempotency-key': key } });
    assert.deepEqual(again.json, { id, status: 'succeeded' });
    const other = await invokeAsync(platform.url, 'flaky', { headers: { 'idempotency-key': `${key}-other` } });
    assert.notEqual(other.json.id, id);
    const listed = (await api(platform.url, 'GET', '/api/v1/invocations?function=flaky&limit=1000')).json as unknown as InvocationList;
    assert.equal(listed.invocations.filter((i) => i.id === id).length, 1);
  });

  test('failed attempts are retried with the attempt number until one succeeds', async () => {
    const accepted = await invokeAsync(platform.url, 'flaky?okAt=3');
    const done = await settled(platform.url, accepted.json.id!);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 3);
    assert.equal(JSON.parse(responseBody(done).toString()).attempt, 3);
  });

  test('429 is retried; other 4xx fail at once without retry', async () => {
    const limited = await settled(platform.url, (await invokeAsync(platform.url, 'flaky?okAt=2&status=429&retryAfter=0')).json.id!);
    assert.equal(limited.status, 'succeeded');
    assert.equal(limited.attempts, 2);
    const failed = await settled(platform.url, (await invokeAsync(platform.url, 'flaky?okAt=9&status=422')).json.id!);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts, 1);
    assert.equal(failed.response?.status, 422);
    assert.equal(responseBody(failed).toString(), 'not yet 1');
  });

  test('after the last retry the invocation is a dead letter: listed, redriven with its id and a fresh budget, purged', async () => {
    await deploy(platform.url, 'doomed', FLAKY_FUNCTION, { retryDelay: '100ms', maxRetries: 1 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await invokeAsync(platform.url, `doomed?okAt=99&n=${i}`)).json.id!);
    for (const id of ids) {
      const dead = await settled(platform.url, id);
      assert.equal(dead.status, 'dead');
      assert.equal(dead.attempts, 2);
      assert.equal(dead.response?.status, 500);
      assert.equal(dead.nextAttemptAt, null);
    }
    const listed = (await api(platform.url, 'GET', '/api/v1/invocations?function=doomed&status=dead')).json as unknown as InvocationList;
    assert.deepEqual(new Set(listed.invocations.map((i) => i.id)), new Set(ids));

    // The function is fixed (it now succeeds at once): redriving one runs it again under its id.
    await deploy(platform.url, 'doomed', FLAKY_FUNCTION, { retryDelay: '100ms', maxRetries: 1 });
    const redrive = await api(platform.url, 'POST', '/api/v1/functions/doomed/dlq/redrive', { ids: [ids[0], 'not-an-id'] });
    assert.equal(redrive.status, 200);
    assert.deepEqual(redrive.json, { redriven: [ids[0]] });
    // okAt=99 still in its query: it fails again, twice (fresh budget), and is dead again.
    const again = await settled(platform.url, ids[0]!);
    assert.equal(again.status, 'dead');
    assert.equal(again.attempts, 2);

    const badBodies = [{}, { ids: [] }, { all: true, ids: ['x'] }, { all: 'yes' }, { ids: 'x' }, { extra: 1, all: true }];
    for (const body of badBodies) assert.equal((await api(platform.url, 'POST', '/api/v1/functions/doomed/dlq/redrive', body)).status, 400, JSON.stringify(body));
    assert.equal((await api(platform.url, 'POST', '/api/v1/functions/nope/dlq/redrive', { all: true })).status, 404);

    const purged = await api(platform.url, 'DELETE', '/api/v1/functions/doomed/dlq');
    assert.deepEqual(purged.json, { purged: 3 });
    assert.equal((await api(platform.url, 'GET', `/api/v1/invocations/${ids[1]}`)).status, 404);
  });

  test('redrive --all queues every dead letter of the function', async () => {
    await deploy(platform.url, 'redrivable', FLAKY_FUNCTION, { maxRetries: 0 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await invokeAsync(platform.url, `redrivable?okAt=2&n=${i}`)).json.id!);
    for (const id of ids) assert.equal((await settled(platform.url, id)).status, 'dead');
    const redrive = await api(platform.url, 'POST', '/api/v1/functions/redrivable/dlq/redrive', { all: true });
    assert.deepEqual(new Set((redrive.json as { redriven: string[] }).redriven), new Set(ids));
    // The fresh budget starts at attempt 1 again, which still fails (okAt=2) and maxRetries is 0.
    for (const id of ids) {
      const view = await settled(platform.url, id);
      assert.equal(view.status, 'dead');
      assert.equal(view.attempts, 1);
    }
  });

  test('callbacks arrive with the status, headers and body, for successes and failures; failed deliveries are retried', async () => {
    const receiver = await callbackReceiver();
    try {
      receiver.failNext(1);
      const ok = await invokeAsync(platform.url, 'flaky', { body: 'hello', headers: { 'x-nimbus-callback-url': receiver.url, 'content-type': 'text/plain' } });
      await waitFor(() => receiver.received.length >= 1, 20_000, 'the success callback');
      const success = receiver.received[0]!;
      assert.equal(success.headers['x-nimbus-invocation-id'], ok.json.id);
      assert.equal(success.headers['x-nimbus-status'], '200');
      assert.equal(success.headers['content-type'], 'application/json');
      assert.equal(Buffer.from(JSON.parse(success.body.toString()).body, 'base64').toString(), 'hello');

      const bad = await invokeAsync(platform.url, 'flaky?okAt=9&status=404', { headers: { 'x-callback-url': receiver.url } });
      await waitFor(() => receiver.received.length >= 2, 20_000, 'the failure callback');
      const failure = receiver.received[1]!;
      assert.equal(failure.headers['x-nimbus-invocation-id'], bad.json.id);
      assert.equal(failure.headers['x-nimbus-status'], '404');
      assert.equal(failure.body.toString(), 'not yet 1');
    } finally {
      await receiver.close();
    }
  });

  test('destinations receive a record of the ended invocation as an async invocation', async () => {
    await deploy(platform.url, 'sink', { file: 'index.js', content: 'export default async (req) => new Response(await req.text(), { headers: { "content-type": "application/json" } });' });
    await deploy(platform.url, 'routed', FLAKY_FUNCTION, { onSuccess: 'sink', onFailure: 'sink', maxRetries: 0 });
    const ok = (await invokeAsync(platform.url, 'routed', { body: 'in' })).json.id!;
    const bad = (await invokeAsync(platform.url, 'routed?okAt=2')).json.id!;
    await settled(platform.url, ok);
    await settled(platform.url, bad);
    const records = new Map<string, { requestContext: { invocationId: string; condition: string; functionName: string; approximateInvokeCount: number }; responseContext: { statusCode: number } }>();
    await waitFor(async () => {
      const list = (await api(platform.url, 'GET', '/api/v1/invocations?function=sink&status=succeeded')).json as unknown as InvocationList;
      for (const view of list.invocations) {
        const record = JSON.parse(responseBody(view).toString());
        records.set(record.requestContext.invocationId, record);
      }
      return records.has(ok) && records.has(bad);
    }, 20_000, 'both destination records');
    assert.equal(records.get(ok)!.requestContext.condition, 'Success');
    assert.equal(records.get(ok)!.requestContext.functionName, 'routed');
    assert.equal(records.get(ok)!.responseContext.statusCode, 200);
    assert.equal(records.get(bad)!.requestContext.condition, 'RetriesExhausted');
    assert.equal(records.get(bad)!.responseContext.statusCode, 500);
  });

  test('work for a function removed in the meantime ends failed with FUNCTION_NOT_FOUND instead of waiting forever', async () => {
    await deploy(platform.url, 'gone-sink', FLAKY_FUNCTION);
    await deploy(platform.url, 'orphaning', FLAKY_FUNCTION, { onSuccess: 'gone-sink' });
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/functions/gone-sink')).status, 204);
    const source = await settled(platform.url, (await invokeAsync(platform.url, 'orphaning')).json.id!);
    // Only a success sends work to the on-success destination: say so if the source did not succeed.
    assert.equal(source.status, 'succeeded', `the source invocation ended ${JSON.stringify(source)}`);
    let dropped: InvocationList['invocations'] = [];
    await waitFor(async () => {
      dropped = ((await api(platform.url, 'GET', '/api/v1/invocations?function=gone-sink')).json as unknown as InvocationList).invocations;
      return dropped.length === 1 && dropped[0]!.status === 'failed';
    }, 10_000, 'the destination invocation to end').catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(dropped)}`);
    });
    assert.equal(dropped[0]!.error?.code, 'FUNCTION_NOT_FOUND');
  });

  test("one function's backlog does not hold up another's async work, nor its own sync callers", async () => {
    await deploy(platform.url, 'backlog', FLAKY_FUNCTION, { asyncConcurrency: 2 });
    const flood = await Promise.all(Array.from({ length: 200 }, () => invokeAsync(platform.url, 'backlog?ms=200')));
    assert.ok(flood.every((a) => a.status === 202));
    const began = Date.now();
    const other = await settled(platform.url, (await invokeAsync(platform.url, 'flaky')).json.id!);
    assert.equal(other.status, 'succeeded');
    const sync = await invoke(platform.url, 'backlog?okAt=0');
    assert.equal(sync.status, 200);
    const tookMs = Date.now() - began;
    const queued = ((await api(platform.url, 'GET', '/api/v1/invocations?function=backlog&status=queued&limit=1000')).json as unknown as InvocationList).invocations.length;
    // 200 items at 2 at a time take 20 s; the other function's work and the sync call did not wait for them.
    assert.ok(queued > 100, `only ${queued} of the backlog still queued after ${tookMs} ms`);

    // Removing the function drops its queued work and its records.
    assert.equal((await api(platform.url, 'DELETE', '/api/v1/functions/backlog')).status, 204);
    assert.equal((await api(platform.url, 'GET', `/api/v1/invocations/${flood[199]!.json.id}`)).status, 404);
    const left = ((await api(platform.url, 'GET', '/api/v1/invocations?function=backlog&limit=1000')).json as unknown as InvocationList).invocations.length;
    assert.ok(left <= 2, `${left} records of the removed function are left`);
  });

  test('an invocation that waited past its maximum event age is dead without running', async () => {
    await deploy(platform.url, 'stale', FLAKY_FUNCTION, { asyncConcurrency: 1, maxEventAge: '1s' });
    const first = (await invokeAsync(platform.url, 'stale?ms=1500')).json.id!;
    const second = (await invokeAsync(platform.url, 'stale')).json.id!;
    assert.equal((await settled(platform.url, first)).status, 'succeeded');
    const expired = await settled(platform.url, second);
    assert.equal(expired.status, 'dead');
    assert.equal(expired.attempts, 0);
    assert.equal(expired.error?.code, 'INVOCATION_EXPIRED');
  });

  test('asyncConcurrency 0 holds the work (accepted, kept queued, sync calls still run) until a deploy raises it', async () => {
    const deployed = await deploy(platform.url, 'held', FLAKY_FUNCTION, { asyncConcurrency: 0 });
    assert.equal(deployed.asyncConcurrency, 0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const accepted = await invokeAsync(platform.url, `held?n=${i}`);
      assert.equal(accepted.status, 202);
      ids.push(accepted.json.id!);
    }
    assert.equal((await invoke(platform.url, 'held?okAt=0')).status, 200, 'a sync call is not held');
    // Several of the dispatcher's polls (every 100 ms) and wake-ups pass: none of them runs held work.
    await new Promise((wait) => setTimeout(wait, 600));
    for (const id of ids) {
      const view = await invocation(platform.url, id);
      assert.deepEqual([view.status, view.attempts], ['queued', 0], id);
    }
    await deploy(platform.url, 'held', FLAKY_FUNCTION, { asyncConcurrency: 2 });
    for (const id of ids) {
      const done = await settled(platform.url, id);
      assert.deepEqual([done.status, done.attempts, done.version], ['succeeded', 1, 2], id);
    }
  });

  test('listings are newest first and paginate with a cursor', async () => {
    await deploy(platform.url, 'paged', FLAKY_FUNCTION);
    const ids = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await invokeAsync(platform.url, `paged?n=${i}`)).json.id!);
      // Newest first is by acceptance time: a new millisecond for each.
      await new Promise((tick) => setTimeout(tick, 3));
    }
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = (await api(platform.url, 'GET', `/api/v1/invocations?function=paged&limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json as unknown as InvocationList;
      assert.ok(page.invocations.length <= 3);
      seen.push(...page.invocations.map((i) => i.id));
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, [...ids].reverse());
    assert.equal((await invocation(platform.url, ids[0]!)).function, 'paged');
  });
});
