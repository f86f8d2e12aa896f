/**
 * The invoker against an in-process provider: deadlines, admission bounds, error mapping, the
 * invocation-ended event and a redeploy's drain, with real sockets but no processes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import type { CallerConnection, InvocationEnded, InvokeOptions } from '../../src/core/invocation.js';
import { BufferedResponse } from '../../src/gateway/buffered-response.js';
import { FunctionCache } from '../../src/gateway/function-cache.js';
import { InvocationEvents } from '../../src/gateway/invocation-events.js';
import { Invoker } from '../../src/gateway/invoker.js';
import { InstanceManager } from '../../src/scaling/instance-manager.js';
import type { FunctionRecord } from '../../src/store/types.js';
import { type FakeHandler, InProcessProvider, throwLikeAShim } from '../providers/in-process-provider.js';

function record(name: string, version = 1, spec: Partial<FunctionRecord['spec']> = {}): FunctionRecord {
  return {
    version,
    createdAt: 0,
    updatedAt: 0,
    build: { buildId: `${name}-${version}`, entry: 'index.js' },
    spec: { name, runtime: 'node', handler: 'index.js', env: {}, timeoutMs: 5000, memoryMb: 128, idleTimeoutMs: 60_000, concurrency: 4, maxInstances: 2, minInstances: 0, packageSha256: 'x', ...spec },
  };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** An invoker over an in-process provider whose functions behave as `handlers` say (by name, or name@version). */
function setup(handlers: Record<string, FakeHandler | Error>, bounds: { maxQueue?: number; maxQueueWaitMs?: number; startDelayMs?: number } = {}) {
  const provider = new InProcessProvider({
    handlerFor: (fn) => handlers[`${fn.spec.name}@${fn.version}`] ?? handlers[fn.spec.name] ?? new Error(`no handler for ${fn.spec.name}`),
    ...(bounds.startDelayMs ? { startDelayMs: bounds.startDelayMs } : {}),
  });
  const manager = new InstanceManager({ provider, clock: systemClock, scaleIntervalMs: 1000, maxQueue: bounds.maxQueue ?? 100, maxQueueWaitMs: bounds.maxQueueWaitMs ?? 10_000 });
  const listenerErrors: unknown[] = [];
  const events = new InvocationEvents((err) => listenerErrors.push(err));
  const ended: InvocationEnded[] = [];
  events.on((e) => ended.push(e));
  const records = new Map<string, FunctionRecord>();
  const cache = new FunctionCache({ getFunction: async (name: string) => records.get(name) } as never);
  const invoker = new Invoker({ functions: cache, admission: manager, clock: systemClock, events });
  stops.push(() => manager.shutdown());
  const invoke = async (fn: FunctionRecord, init: { path?: string; body?: string; headers?: Record<string, string> } = {}, options: Partial<InvokeOptions> = {}) => {
    const sink = new BufferedResponse();
    const body = init.body === undefined ? null : Buffer.from(init.body);
    const result = await invoker.invoke(fn, { method: body ? 'POST' : 'GET', path: init.path ?? '/', headers: { ...init.headers }, body }, sink, { source: 'http', invocationId: randomUUID(), ...options });
    return { ...result, sink };
  };
  return { provider, manager, invoker, events, ended, listenerErrors, records, invoke };
}

const echo: FakeHandler = async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  res.writeHead(201, { 'content-type': 'text/plain', 'x-seen-id': String(req.headers['x-nimbus-invocation-id']), 'x-seen-attempt': String(req.headers['x-nimbus-attempt'] ?? '') });
  res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
};

/** Never answers (until the instance is killed). */
const hang: FakeHandler = () => undefined;

const code = (err: unknown) => (err as { code?: string } | undefined)?.code;

describe('invoker', () => {
  test('streams the response into the sink with the platform headers, and emits one ended event with its facts', async () => {
    const { invoke, ended } = setup({ echo });
    const fn = record('echo');
    const first = await invoke(fn, { path: '/a?b=1', body: 'ping' }, { invocationId: 'inv-1', attempt: 2, source: 'async' });
    assert.equal(first.error, undefined);
    assert.equal(first.sink.status, 201);
    assert.equal(first.sink.body.toString(), 'POST /a?b=1 ping');
    assert.equal(first.sink.headers['x-nimbus-invocation-id'], 'inv-1');
    assert.equal(first.sink.headers['x-seen-id'], 'inv-1', 'the function sees the invocation id');
    assert.equal(first.sink.headers['x-seen-attempt'], '2', 'and the attempt');
    assert.equal(first.sink.headers['x-nimbus-cold-start'], 'true');
    assert.match(String(first.sink.headers['server-timing']), /^queue;dur=[\d.]+, start;dur=[\d.]+, handler;dur=[\d.]+$/);
    const second = await invoke(fn);
    assert.equal(second.sink.headers['x-nimbus-cold-start'], 'false');
    assert.equal(ended.length, 2);
    const [e1, e2] = ended;
    assert.deepEqual(
      { ...e1, timings: undefined, startedAt: undefined, instanceId: undefined },
      { invocationId: 'inv-1', function: 'echo', version: 1, source: 'async', attempt: 2, method: 'POST', path: '/a?b=1', memoryMb: 128, outcome: 'response', status: 201, coldStart: true, bytesIn: 4, bytesOut: 16, timings: undefined, startedAt: undefined, instanceId: undefined },
    );
    assert.equal(typeof e1!.instanceId, 'string');
    assert.ok(Math.abs(e1!.startedAt - Date.now()) < 10_000);
    for (const key of ['queueMs', 'startMs', 'handlerMs', 'totalMs'] as const) assert.ok(e1!.timings[key] >= 0, key);
    assert.ok(e1!.timings.totalMs >= e1!.timings.handlerMs);
    assert.equal(e2!.coldStart, false);
    assert.equal(e2!.timings.startMs, 0);
    assert.equal(e2!.attempt, 1);
    assert.equal(e2!.source, 'http');
    assert.equal(e1!.instanceId, e2!.instanceId, 'the warm invocation ran on the same instance');
  });

  test('a deadline that passes in the handler answers FUNCTION_TIMEOUT (retryable) and recycles the instance', async () => {
    const { invoke, ended, provider } = setup({ slow: hang });
    const result = await invoke(record('slow', 1, { timeoutMs: 300 }));
    assert.equal(code(result.error), 'FUNCTION_TIMEOUT');
    assert.match(result.error!.message, /did not answer within its timeout of 300ms/);
    assert.deepEqual(ended[0]!.error, { code: 'FUNCTION_TIMEOUT', retryable: true });
    assert.equal(ended[0]!.outcome, 'error');
    await provider.started[0]!.exited;
    assert.equal(provider.started[0]!.reason, 'was killed');
  });

  test('a deadline that passes while waiting for capacity answers FUNCTION_OVERLOADED with Retry-After', async () => {
    const { invoke } = setup({ one: hang });
    const fn = record('one', 1, { concurrency: 1, maxInstances: 1, timeoutMs: 1500 });
    const busy = invoke(fn);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // A caller with less time left than the function's timeout (an async attempt near its max age).
    const waited = await invoke(fn, {}, { timeoutMs: 300 });
    assert.equal(code(waited.error), 'FUNCTION_OVERLOADED');
    assert.match(waited.error!.message, /within its timeout of 300ms/);
    assert.equal(waited.error!.headers?.['retry-after'], '1');
    assert.equal(code((await busy).error), 'FUNCTION_TIMEOUT');
  });

  test('admission is bounded: past --max-queue the answer is FUNCTION_OVERLOADED at once', async () => {
    const { invoke, manager } = setup({ one: hang }, { maxQueue: 1 });
    const fn = record('one', 1, { concurrency: 1, maxInstances: 1, timeoutMs: 1000 });
    const running = invoke(fn);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const queued = invoke(fn);
    const refused = await invoke(fn);
    assert.equal(code(refused.error), 'FUNCTION_OVERLOADED');
    assert.match(refused.error!.message, /1 requests waiting already/);
    // Refused without waiting: the one ahead of it is still running, the other still in line.
    assert.deepEqual([manager.status('one').inflight, manager.status('one').queued], [1, 1], 'refused without waiting');
    await Promise.all([running, queued]);
  });

  test('errors are mapped: a throwing handler is FUNCTION_ERROR, a start that fails is FUNCTION_START_FAILED, a dying instance FUNCTION_CRASHED', async () => {
    const { invoke, ended } = setup({
      throws: (_req, res) => throwLikeAShim(res, 'boom'),
      broken: new Error('SyntaxError: Unexpected token'),
      dies: (_req, res, instance) => {
        res.flushHeaders();
        res.write('partial', () => setTimeout(() => instance.kill(), 50));
      },
    });
    const thrown = await invoke(record('throws'));
    assert.equal(code(thrown.error), 'FUNCTION_ERROR');
    assert.match(thrown.error!.message, /The handler of "throws" threw: Error: boom/);
    const broken = await invoke(record('broken'));
    assert.equal(code(broken.error), 'FUNCTION_START_FAILED');
    assert.match(broken.error!.message, /Unexpected token/);
    const died = await invoke(record('dies'));
    assert.equal(code(died.error), 'FUNCTION_CRASHED');
    assert.match(died.error!.message, /The instance of "dies" was killed while serving this request/);
    assert.equal(died.sink.status, 200, 'the response had started: the edge cuts it rather than answer twice');
    assert.deepEqual(
      ended.map((e) => [e.function, e.outcome, e.error?.code, e.error?.retryable]),
      [
        ['throws', 'error', 'FUNCTION_ERROR', true],
        ['broken', 'error', 'FUNCTION_START_FAILED', true],
        ['dies', 'error', 'FUNCTION_CRASHED', true],
      ],
    );
  });

  test('a caller that goes away ends the invocation as abandoned; the function sees the abort and its slot is freed', async () => {
    let aborted!: () => void;
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve));
    const { invoke, ended, manager, provider } = setup({
      waits: (_req: IncomingMessage, res) => {
        res.on('close', aborted);
      },
    });
    let gone: (() => void) | undefined;
    const caller: CallerConnection = { onGone: (cb) => (gone = cb), offGone: () => (gone = undefined) };
    const fn = record('waits', 1, { timeoutMs: 2000 });
    const running = invoke(fn, {}, { caller });
    while (provider.started[0]?.served !== 1) await new Promise((resolve) => setTimeout(resolve, 10));
    gone!();
    const result = await running;
    await sawAbort;
    assert.equal(result.error, undefined, 'nobody to answer');
    assert.equal(ended[0]!.outcome, 'abandoned');
    assert.equal(manager.status('waits').inflight, 0);
    assert.equal(gone, undefined, 'the invoker stopped watching the caller');
  });

  test('a redeploy drains: the old version finishes its in-flight invocation, new ones go to the new version, then the old instance stops', async () => {
    let finishOld!: () => void;
    const oldMayFinish = new Promise<void>((resolve) => (finishOld = resolve));
    const { invoke, provider } = setup({
      'app@1': async (_req, res) => {
        await oldMayFinish;
        res.end('v1');
      },
      'app@2': (_req, res) => void res.end('v2'),
    });
    const oldCall = invoke(record('app', 1));
    while (provider.started.length === 0 || provider.started[0]!.served === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const newCall = await invoke(record('app', 2));
    assert.equal(newCall.sink.body.toString(), 'v2');
    assert.equal(provider.started[0]!.reason, undefined, 'the old instance still serves its invocation');
    finishOld();
    const old = await oldCall;
    assert.equal(old.error, undefined);
    assert.equal(old.sink.body.toString(), 'v1');
    await provider.started[0]!.exited;
    assert.equal(provider.started[0]!.reason, 'exited after a stop');
  });

  test('a listener that throws is reported and disturbs neither the invocation nor the other listeners', async () => {
    const { invoke, events, ended, listenerErrors } = setup({ echo });
    const off = events.on(() => {
      throw new Error('listener bug');
    });
    const result = await invoke(record('echo'));
    assert.equal(result.sink.status, 201);
    assert.equal(ended.length, 1);
    assert.match(String(listenerErrors[0]), /listener bug/);
    off();
    await invoke(record('echo'));
    assert.equal(listenerErrors.length, 1, 'unsubscribed');
  });

  test('lookup answers FUNCTION_NOT_FOUND for a function that is not deployed, and finds one that is', async () => {
    const { invoker, records } = setup({});
    await assert.rejects(invoker.lookup('ghost'), (err) => code(err) === 'FUNCTION_NOT_FOUND');
    records.set('real', record('real'));
    assert.equal((await invoker.lookup('real')).spec.name, 'real');
    assert.equal(invoker.peek('real')?.spec.name, 'real', 'then served from memory');
  });
});
