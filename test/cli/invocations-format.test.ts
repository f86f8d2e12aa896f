/**
 * How async invocations read (tables, the detail block, progress lines, failure messages), the
 * wait's back-off on a manual clock, and paging: no server needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InvocationList, InvocationListQuery, InvocationView } from '../../src/api/wire.js';
import { ApiError, type NimbusClient } from '../../src/cli/client.js';
import { colors, formatUntil } from '../../src/cli/format.js';
import {
  bodyPreview,
  formatInvocationDetails,
  formatInvocationTable,
  formatProgress,
  formatResult,
  responseBody,
} from '../../src/cli/invocation-format.js';
import { listInvocationPages } from '../../src/cli/invocation-pages.js';
import { invocationFailure } from '../../src/cli/invocation-result.js';
import { nextPollDelay, waitForInvocation, type WaitClock } from '../../src/cli/invocation-wait.js';

const plain = colors(false);
const now = Date.parse('2026-11-23T12:00:00.000Z');
const ago = (seconds: number): string => new Date(now - seconds * 1000).toISOString();

function view(overrides: Partial<InvocationView> = {}): InvocationView {
  return {
    id: 'a1b2c3d4-0000-4000-8000-000000000001',
    function: 'report',
    source: 'async',
    httpStatus: null,
    metering: null,
    version: 3,
    status: 'succeeded',
    attempts: 1,
    createdAt: ago(180),
    startedAt: ago(179),
    finishedAt: ago(178),
    nextAttemptAt: null,
    error: null,
    response: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'done\n', bodyEncoding: 'utf8', truncated: false },
    request: { method: 'POST', path: '/run?month=11' },
    trigger: null,
    ...overrides,
  };
}

const dead = view({
  id: 'dead-1',
  status: 'dead',
  attempts: 3,
  finishedAt: ago(60),
  error: { code: 'FUNCTION_ERROR', message: 'boom \u001b[2J' },
  response: null,
});

describe('formatUntil', () => {
  it('says how long until a time, and now once it is due', () => {
    assert.equal(formatUntil(new Date(now + 2_500).toISOString(), now), 'in 3s');
    assert.equal(formatUntil(new Date(now + 4 * 60_000).toISOString(), now), 'in 4m');
    assert.equal(formatUntil(new Date(now + 2 * 3_600_000).toISOString(), now), 'in 2h');
    assert.equal(formatUntil(new Date(now + 3 * 86_400_000).toISOString(), now), 'in 3d');
    assert.equal(formatUntil(ago(5), now), 'now');
    assert.equal(formatUntil(null, now), '-');
    assert.equal(formatUntil('garbage', now), '-');
  });
});

describe('the invocations table', () => {
  it('shows id, function, status, attempts, relative times and the result', () => {
    const rows = [
      view(),
      dead,
      view({ id: 'retry-1', status: 'retrying', attempts: 1, finishedAt: null, nextAttemptAt: new Date(now + 3_000).toISOString(), response: { ...view().response!, status: 503 } }),
      view({ id: 'queued-1', status: 'queued', attempts: 0, version: null, startedAt: null, finishedAt: null, response: null, createdAt: ago(2) }),
    ];
    assert.equal(
      formatInvocationTable(rows, plain, now),
      [
        'ID                                    FUNCTION  STATUS     ATTEMPTS  CREATED   FINISHED/NEXT  RESULT',
        'a1b2c3d4-0000-4000-8000-000000000001  report    succeeded         1  3m ago    2m ago         200',
        'dead-1                                report    dead              3  3m ago    1m ago         FUNCTION_ERROR',
        'retry-1                               report    retrying          1  3m ago    next in 3s     503',
        'queued-1                              report    queued            0  just now  -              -',
        '',
      ].join('\n'),
    );
  });

  it('colours the status when colours are on', () => {
    const c = colors(true);
    const text = formatInvocationTable([view(), dead], c, now);
    assert.match(text, /\u001b\[32msucceeded\u001b\[39m/);
    assert.match(text, /\u001b\[31mdead\u001b\[39m/);
  });

  it('the result is the error code first, else the status', () => {
    assert.equal(formatResult({ error: { code: 'FUNCTION_TIMEOUT', message: 'x' }, response: view().response }), 'FUNCTION_TIMEOUT');
    assert.equal(formatResult({ error: null, response: null }), '-');
  });
});

describe('response bodies', () => {
  const binary = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
  const base64 = { status: 200, headers: {}, body: binary.toString('base64'), bodyEncoding: 'base64' as const, truncated: false };

  it('are decoded from base64 byte for byte', () => {
    assert.ok(responseBody(base64).equals(binary));
    assert.equal(responseBody({ body: 'héllo', bodyEncoding: 'utf8' }).toString('utf8'), 'héllo');
  });

  it('preview: text lines made visible, binary only sized, long bodies cut', () => {
    assert.deepEqual(bodyPreview(base64, plain), { lines: ['(binary, 4 B)'], partial: true });
    assert.deepEqual(bodyPreview({ ...base64, body: '', bodyEncoding: 'utf8' }, plain), { lines: ['(empty)'], partial: false });
    assert.deepEqual(bodyPreview({ ...base64, body: 'a\r\n\u001b]0;t\u0007\n', bodyEncoding: 'utf8' }, plain), { lines: ['a', '\\x1b]0;t\\a'], partial: false });
    const many = bodyPreview({ ...base64, body: Array.from({ length: 14 }, (_, i) => `line ${i}`).join('\n'), bodyEncoding: 'utf8' }, plain);
    assert.equal(many.lines.length, 11);
    assert.equal(many.lines.at(-1), '… 4 more lines');
    assert.equal(many.partial, true);
    const wide = bodyPreview({ ...base64, body: 'x'.repeat(300), bodyEncoding: 'utf8' }, plain);
    assert.deepEqual(wide, { lines: [`${'x'.repeat(200)}…`], partial: true });
  });
});

describe('the invocation block', () => {
  it('shows the fields, the response and its body', () => {
    const text = formatInvocationDetails(view({ response: { status: 201, headers: { 'set-cookie': ['a=1', 'b=2'] }, body: 'done\n', bodyEncoding: 'utf8', truncated: true } }), plain, now);
    assert.equal(
      text,
      [
        'id:        a1b2c3d4-0000-4000-8000-000000000001',
        'function:  report (version 3)',
        'status:    succeeded',
        'attempts:  1',
        'request:   POST /run?month=11',
        `created:   ${ago(180)} (3m ago)`,
        `started:   ${ago(179)} (2m ago)`,
        `finished:  ${ago(178)} (2m ago)`,
        'response:  201 Created, 5 B body (truncated: the function answered more than was kept)',
        'headers:   set-cookie: a=1',
        '           set-cookie: b=2',
        'body:      done',
        '',
      ].join('\n'),
    );
  });

  it("names the trigger whose event it was", () => {
    const text = formatInvocationDetails(view({ trigger: 'nightly' }), plain, now);
    assert.match(text, /\nattempts: {2}1\ntrigger: {3}nightly \(see: nimbus trigger get nightly\)\nrequest: {3}POST \/run\?month=11\n/);
  });

  it('a dead letter shows its error, made visible, and how to redrive it', () => {
    const text = formatInvocationDetails(dead, plain, now);
    assert.match(text, /^error: +\[FUNCTION_ERROR\] boom \\x1b\[2J$/m);
    assert.match(text, /^response: +\(none\)$/m);
    assert.match(text, /\n\nA dead letter: queue it again with: nimbus dlq redrive report --id dead-1\n$/);
    assert.doesNotMatch(text, /\u001b/);
  });

  it('a binary body says how to get it whole; a retrying one when it tries next', () => {
    const binary = formatInvocationDetails(view({ response: { status: 200, headers: {}, body: 'AAEC', bodyEncoding: 'base64', truncated: false } }), plain, now);
    assert.match(binary, /^body: +\(binary, 3 B\)$/m);
    assert.match(binary, /\n\nThe whole body: nimbus invocations get a1b2c3d4-0000-4000-8000-000000000001 --body\n$/);
    const next = new Date(now + 4_000).toISOString();
    assert.match(formatInvocationDetails(view({ status: 'retrying', nextAttemptAt: next }), plain, now), new RegExp(`^next attempt: +${next} \\(in 4s\\)$`, 'm'));
  });
});

describe('progress lines of --wait', () => {
  it('say what changed', () => {
    assert.equal(formatProgress(view({ status: 'queued', attempts: 0 }), now), 'queued');
    assert.equal(formatProgress(view({ status: 'running', attempts: 2 }), now), 'running (attempt 2)');
    const next = new Date(now + 2_000);
    const retrying = formatProgress(view({ status: 'retrying', attempts: 1, error: { code: 'FUNCTION_TIMEOUT', message: '' }, nextAttemptAt: next.toISOString() }), now);
    const clock = [next.getHours(), next.getMinutes(), next.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
    assert.equal(retrying, `retrying: attempt 1 ended with [FUNCTION_TIMEOUT]; next at ${clock} (in 2s)`);
    assert.equal(formatProgress(view({ status: 'retrying', attempts: 2, response: { ...view().response!, status: 503 } }), now), 'retrying: attempt 2 ended with HTTP 503');
    assert.equal(formatProgress(dead, now), 'dead after 3 attempts');
    assert.equal(formatProgress(view(), now), 'succeeded after 1 attempt');
  });
});

describe('when an ended invocation is a failure (exit 1)', () => {
  it('succeeded below 400 is not', () => {
    assert.equal(invocationFailure(view()), undefined);
    assert.equal(invocationFailure(view({ response: null })), undefined);
  });

  it('a dead letter prints the code like a sync invoke, says it is a dead letter and how to redrive it', () => {
    assert.equal(
      invocationFailure(dead),
      [
        'HTTP 502 [FUNCTION_ERROR]: boom \\x1b[2J',
        'Invocation dead-1 is a dead letter after 3 attempts: queue it again with: nimbus dlq redrive report --id dead-1',
        'See what the function logged with: nimbus logs report --since 5m',
      ].join('\n'),
    );
    // A code newer than this CLI: no HTTP status to show.
    assert.match(invocationFailure({ ...dead, error: { code: 'SOMETHING_NEW' as 'INTERNAL', message: 'x' } })!, /^\[SOMETHING_NEW\]: x\n/);
    const answered = invocationFailure({ ...dead, error: null, response: { ...view().response!, status: 500 } });
    assert.match(answered!, /^HTTP 500 Internal Server Error\nInvocation dead-1 is a dead letter after 3 attempts/);
  });

  it('failed: the status, and that it is not retried', () => {
    assert.equal(
      invocationFailure(view({ status: 'failed', response: { ...view().response!, status: 418 } })),
      "HTTP 418 I'm a Teapot\nInvocation a1b2c3d4-0000-4000-8000-000000000001 failed after 1 attempt: a 4xx answer (other than 429) is not retried.",
    );
  });
});

/** A clock whose sleep moves time on at once. */
function manualClock(): WaitClock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new Error('aborted');
      slept.push(ms);
      t += ms;
    },
  };
}

describe('waiting for an invocation', () => {
  it('backs off from 100 ms to 1 s', () => {
    const delays: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 8; i++) delays.push((d = nextPollDelay(d)));
    assert.deepEqual(delays, [100, 150, 225, 338, 507, 761, 1000, 1000]);
  });

  it('reports each status change once and ends with the ended view', async () => {
    const clock = manualClock();
    const script: InvocationView['status'][] = ['queued', 'queued', 'running', 'retrying', 'retrying', 'running', 'succeeded'];
    let attempts = 0;
    const seen: string[] = [];
    const outcome = await waitForInvocation(
      async () => {
        const status = script.shift()!;
        if (status === 'running') attempts++;
        return view({ status, attempts });
      },
      'x',
      { timeoutMs: 60_000, clock, onChange: (v) => seen.push(`${v.status}/${v.attempts}`) },
    );
    assert.equal(outcome.kind, 'ended');
    assert.deepEqual(seen, ['queued/0', 'running/1', 'retrying/1', 'running/2', 'succeeded/2']);
    assert.deepEqual(clock.slept, [100, 150, 225, 338, 507, 761]);
  });

  it('gives up at the timeout with the last view, never sleeping past it', async () => {
    const clock = manualClock();
    const outcome = await waitForInvocation(async () => view({ status: 'retrying' }), 'x', { timeoutMs: 2_000, clock });
    assert.equal(outcome.kind, 'timeout');
    assert.equal(outcome.view?.status, 'retrying');
    assert.equal(clock.now(), 2_000);
  });

  it('tolerates an unknown id for a moment after acceptance, then throws', async () => {
    const clock = manualClock();
    let calls = 0;
    const outcome = await waitForInvocation(
      async () => {
        if (++calls < 3) throw new ApiError(404, 'INVOCATION_NOT_FOUND', 'no such invocation');
        return view();
      },
      'x',
      { timeoutMs: 60_000, clock },
    );
    assert.equal(outcome.kind, 'ended');
    const never = waitForInvocation(async () => Promise.reject(new ApiError(404, 'INVOCATION_NOT_FOUND', 'no such invocation')), 'x', { timeoutMs: 60_000, clock: manualClock() });
    await assert.rejects(never, /no such invocation/);
    const forbidden = waitForInvocation(async () => Promise.reject(new ApiError(403, 'FORBIDDEN', 'read scope needed')), 'x', { timeoutMs: 60_000, clock: manualClock() });
    await assert.rejects(forbidden, /read scope needed/);
  });

  it('stops when its signal aborts', async () => {
    const abort = new AbortController();
    let calls = 0;
    const outcome = await waitForInvocation(
      async () => {
        if (++calls === 2) abort.abort();
        return view({ status: 'running' });
      },
      'x',
      { timeoutMs: 60_000, clock: manualClock(), signal: abort.signal },
    );
    assert.equal(outcome.kind, 'stopped');
    assert.equal(outcome.view?.status, 'running');
  });
});

describe('paging through invocations', () => {
  /** A client answering pages of `total` made-up invocations; records the queries. */
  function pagedClient(total: number) {
    const queries: InvocationListQuery[] = [];
    const client = {
      async listInvocations(query: InvocationListQuery): Promise<InvocationList> {
        queries.push(query);
        const start = query.cursor ? Number(query.cursor) : 0;
        const end = Math.min(total, start + (query.limit ?? 100));
        const invocations = Array.from({ length: end - start }, (_, i) => view({ id: `inv-${start + i}` }));
        return { invocations, nextCursor: end < total ? String(end) : null };
      },
    };
    return { client: client as unknown as NimbusClient, queries };
  }

  it('asks for one page when the limit fits in it', async () => {
    const { client, queries } = pagedClient(500);
    const r = await listInvocationPages(client, { function: 'report', status: 'dead' });
    assert.equal(r.invocations.length, 100);
    assert.equal(r.more, true);
    assert.deepEqual(queries, [{ function: 'report', status: 'dead', limit: 100 }]);
  });

  it('follows nextCursor for a larger limit, and for --all to the end', async () => {
    const { client, queries } = pagedClient(2_500);
    const r = await listInvocationPages(client, { limit: 1_500 });
    assert.equal(r.invocations.length, 1_500);
    assert.equal(r.more, true);
    assert.deepEqual(queries, [{ limit: 1_000 }, { limit: 500, cursor: '1000' }]);
    const all = await listInvocationPages(pagedClient(2_500).client, { all: true });
    assert.equal(all.invocations.length, 2_500);
    assert.equal(all.more, false);
    assert.equal(new Set(all.invocations.map((v) => v.id)).size, 2_500);
  });
});
