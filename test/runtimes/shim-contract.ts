import assert from 'node:assert/strict';
import type { RuntimeName } from '../../src/core/spec.js';
import { type Shim, spawnShim, startFunction, startShim, EVENT_LIMIT_MS, within } from './shim-harness.js';

/**
 * Checks of the runtime protocol that every shim must pass, whatever its language: each runtime's
 * test file runs them against its own shim.
 */

/** An init that must fail, with the code and message the shim must answer. */
export interface FailingInit {
  entry: string;
  export?: string;
  code: string;
  message: RegExp;
}

/**
 * The runtime protocol's init rules, the same for every shim: invocations before init get 503
 * NOT_INITIALISED; a failing init answers 500 with its code; health reports initialisation; a
 * second init is refused with 409.
 */
export async function checkInitContract(runtime: RuntimeName, codeDir: string, failing: FailingInit[], goodEntry: string): Promise<void> {
  for (const { code, message, ...init } of failing) {
    const shim = await startShim(runtime);
    try {
      const before = await shim.request({ path: '/anything' });
      assert.equal(before.status, 503);
      assert.equal(before.json().error.code, 'NOT_INITIALISED');
      const res = await shim.init({ codeDir, ...init });
      assert.equal(res.status, 500, `${init.entry}: ${res.body.toString()}`);
      assert.equal(res.json().error.code, code);
      assert.match(res.json().error.message, message);
    } finally {
      await shim.stop();
    }
  }
  const shim = await startShim(runtime);
  try {
    assert.deepEqual((await shim.request({ path: '/__nimbus/health' })).json(), { inflight: 0, initialised: false });
    assert.equal((await shim.init({ codeDir, entry: goodEntry })).status, 200);
    assert.deepEqual((await shim.request({ path: '/__nimbus/health' })).json(), { inflight: 0, initialised: true });
    assert.equal((await shim.init({ codeDir, entry: goodEntry })).status, 409);
  } finally {
    await shim.stop();
  }
}

/**
 * The control channel: a shim whose platform dies while it starts (EPIPE on the ready line), or
 * after it is ready (EOF on fd 3), exits by itself within two seconds.
 */
export async function checkControlChannel(runtime: RuntimeName): Promise<void> {
  const orphan = spawnShim(runtime);
  orphan.control.destroy();
  assert.deepEqual(await within(orphan.exited, EVENT_LIMIT_MS, 'exit when the platform died during start-up'), { code: 0, signal: null });
  await orphan.stop();

  const idle = await startShim(runtime);
  idle.control.destroy();
  await within(idle.exited, EVENT_LIMIT_MS, 'exit after the control channel closed');
  await idle.stop();
}

/** SIGTERM: the in-flight request (a `/slow` route that logs `started`) completes, then exit 0. */
export async function checkSigtermDrain(runtime: RuntimeName, files: Record<string, string>, entry: string): Promise<void> {
  const { shim } = await startFunction(runtime, files, { entry });
  try {
    const slow = shim.request({ path: '/slow', id: 'inv-slow' });
    await shim.waitForLog((l) => l.id === 'inv-slow' && l.m === 'started');
    shim.child.kill('SIGTERM');
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'done');
    assert.deepEqual(await within(shim.exited, EVENT_LIMIT_MS, 'exit after drain'), { code: 0, signal: null });
  } finally {
    await shim.stop();
  }
}

/**
 * Lambda response mapping shared by every runtime's route fixture: `/none` (no result: 204),
 * `/status` (statusCode, headers, multi-value headers, cookies, base64 body), `/throw` and
 * `/bad-status` (shim errors). `thrown` is the error the `/throw` route raises.
 */
export async function checkLambdaResponses(shim: Shim, thrown: { type: string; message: string; id: string }): Promise<void> {
  const none = await shim.request({ path: '/none' });
  assert.equal(none.status, 204);
  assert.equal(none.body.length, 0);
  const status = await shim.request({ path: '/status' });
  assert.equal(status.status, 202);
  assert.equal(status.headers['x-one'], '1');
  assert.deepEqual(status.headers['x-multi'], ['a', 'b']);
  assert.deepEqual(status.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
  assert.equal(status.text(), 'decoded body');

  const res = await shim.request({ path: '/throw', id: thrown.id });
  assert.equal(res.status, 500);
  assert.equal(res.headers['x-nimbus-shim-error'], 'HANDLER_ERROR');
  assert.deepEqual(res.json(), { error: { type: thrown.type, message: thrown.message } });
  await shim.waitForLog((l) => l.id === thrown.id && l.s === 'err' && l.m.includes(`${thrown.type}: ${thrown.message}`));
  const bad = await shim.request({ path: '/bad-status' });
  assert.equal(bad.headers['x-nimbus-shim-error'], 'INVALID_RESPONSE');
}

/**
 * Log capture: lines of two concurrent invocations (a `/logs?name=` route writing `begin`, a
 * `partial … end` line in two writes, `tail`, and one stderr line) are tagged with their own
 * invocation ids; a `/long-line` route's 40,000-character line is split into 16 KiB pieces; every
 * line is a JSON LogLine with an epoch-ms timestamp.
 */
export async function checkLogTagging(runtime: RuntimeName, files: Record<string, string>, entry: string): Promise<void> {
  const { shim } = await startFunction(runtime, files, { entry });
  try {
    await Promise.all([shim.request({ path: '/logs?name=A', id: 'inv-A' }), shim.request({ path: '/logs?name=B', id: 'inv-B' })]);
    for (const name of ['A', 'B']) {
      await shim.waitForLog((l) => l.id === `inv-${name}` && l.m === `tail ${name}`);
      assert.deepEqual(shim.lines(`inv-${name}`), [`begin ${name}`, `partial ${name} end`, `tail ${name}`]);
      assert.deepEqual(shim.lines(`inv-${name}`, 'err'), [`err ${name}`]);
    }
    await shim.request({ path: '/long-line', id: 'inv-long' });
    assert.deepEqual(shim.lines('inv-long').map((m) => m.length), [16384, 16384, 7232]);
    assert.deepEqual(shim.rawLines, []);
    for (const line of shim.logs) assert.ok(typeof line.t === 'number' && line.t > 1.6e12);
  } finally {
    await shim.stop();
  }
}

/**
 * Sends the request both runtimes map into an API Gateway v2.0 event (duplicate headers,
 * cookies, a repeated query parameter, a forwarded client address, a deadline 5 s ahead), and
 * checks what both must map the same way; answers `{ event, context, ... }` as the handler echoed it.
 */
export async function checkLambdaEvent(shim: Shim, method: string, id: string): Promise<Record<string, any>> {
  const deadline = Date.now() + 5000;
  const res = await shim.request({
    method,
    path: '/event?a=1&a=2&b=x%20y',
    id,
    headers: ['X-Dup', '1', 'X-Dup', '2', 'Cookie', 'c1=v1; c2=v2', 'content-type', 'application/json', 'user-agent', 'test-agent',
      'x-forwarded-for', '203.0.113.5, 10.0.0.1', 'x-nimbus-deadline', String(deadline)],
    body: '{"k":"v"}',
  });
  assert.equal(res.status, 200);
  const answer = res.json() as Record<string, any>;
  const { event, context } = answer;
  assert.equal(event.version, '2.0');
  assert.equal(event.rawPath, '/event');
  assert.equal(event.rawQueryString, 'a=1&a=2&b=x%20y');
  assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
  assert.equal(event.headers['x-dup'], '1,2');
  assert.deepEqual(event.queryStringParameters, { a: '1,2', b: 'x y' });
  assert.equal(event.body, '{"k":"v"}');
  assert.equal(event.isBase64Encoded, false);
  assert.deepEqual(event.requestContext.http, { method, path: '/event', protocol: 'HTTP/1.1', sourceIp: '203.0.113.5', userAgent: 'test-agent' });
  assert.equal(event.requestContext.requestId, id);
  assert.match(event.requestContext.time, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  assert.ok(context.remaining > 3000 && context.remaining <= 5000, `remaining ${context.remaining}`);
  return answer;
}

/** A function that burns the CPU time asked for, for {@link checkCpuReport}. */
export interface CpuBurner {
  files: Record<string, string>;
  entry: string;
  /** The request path that burns `ms` milliseconds of CPU before answering. */
  burnPath(ms: number): string;
}

/**
 * The CPU report (CPU_TIME_HEADER): every invocation's response head carries it, in whole
 * microseconds, at least the CPU time the handler burnt (a short invocation a small figure); with
 * init's `meterCpu: false` no invocation carries it.
 */
export async function checkCpuReport(runtime: RuntimeName, burner: CpuBurner): Promise<void> {
  const { shim } = await startFunction(runtime, burner.files, { entry: burner.entry });
  try {
    const micros = async (path: string) => {
      const res = await shim.request({ path, id: `cpu-${path}` });
      assert.equal(res.status, 200, res.text());
      const header = res.headers['x-nimbus-cpu-us'];
      assert.match(String(header), /^\d+$/, `${path}: x-nimbus-cpu-us ${String(header)}`);
      return Number(header);
    };
    const quick = await micros(burner.burnPath(0));
    assert.ok(quick < 20_000, `an invocation that burns nothing reported ${quick} µs`);
    for (let i = 0; i < 3; i++) {
      const burnt = await micros(burner.burnPath(20));
      assert.ok(burnt >= 19_000, `an invocation that burnt 20 ms of CPU reported ${burnt} µs`);
    }
  } finally {
    await shim.stop();
  }
  const { shim: unmetered } = await startFunction(runtime, burner.files, { entry: burner.entry, meterCpu: false });
  try {
    const res = await unmetered.request({ path: burner.burnPath(1), id: 'unmetered' });
    assert.equal(res.status, 200, res.text());
    assert.equal(res.headers['x-nimbus-cpu-us'], undefined, 'meterCpu: false reports no CPU time');
  } finally {
    await unmetered.stop();
  }
}
