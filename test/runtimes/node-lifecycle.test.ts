import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { LAMBDA_CALLBACK, WEB_ROUTES } from './node-fixtures.js';
import { spawnShim, startFunction, startShim, within, writeFixtures } from './shim-harness.js';
import { checkInitContract } from './init-contract.js';

test('logs are tagged with the right invocation id when invocations run concurrently', async () => {
  const { shim } = await startFunction('node', { 'routes.cjs': WEB_ROUTES }, { entry: 'routes.cjs' });
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
});

test('init: not initialised, health, errors, second init', async () => {
  const codeDir = writeFixtures({ 'cb.js': LAMBDA_CALLBACK, 'broken.js': 'module.exports = {{;', 'none.js': 'exports.x = 1;' });
  const cases = [
    { entry: 'cb.js', export: 'nope', code: 'HANDLER_NOT_FOUND', message: /nope/ },
    { entry: 'missing.js', code: 'HANDLER_NOT_FOUND', message: /missing\.js/ },
    { entry: 'none.js', code: 'HANDLER_NOT_FOUND', message: /handler/ },
    { entry: 'broken.js', code: 'HANDLER_LOAD_FAILED', message: /SyntaxError: Unexpected token/ },
  ];
  try {
    await checkInitContract('node', codeDir, cases, 'cb.js');
  } finally {
    rmSync(codeDir, { recursive: true, force: true });
  }
});

test('lifecycle: fd 3 closed -> exit; SIGTERM drains; uncaught exception -> exit 1', async () => {
  // The platform dying while the shim still starts: it must notice (EPIPE on the ready line).
  const orphan = spawnShim('node');
  orphan.control.destroy();
  assert.deepEqual(await within(orphan.exited, 2000, 'exit when the platform died during start-up'), { code: 0, signal: null });
  await orphan.stop();

  const idle = await startShim('node');
  const closedAt = performance.now();
  idle.control.destroy();
  await within(idle.exited, 2000, 'exit after the control channel closed');
  assert.ok(performance.now() - closedAt < 2000);
  await idle.stop();

  const { shim } = await startFunction('node', { 'routes.cjs': WEB_ROUTES }, { entry: 'routes.cjs' });
  try {
    const slow = shim.request({ path: '/slow', id: 'inv-slow' });
    await shim.waitForLog((l) => l.id === 'inv-slow' && l.m === 'started');
    shim.child.kill('SIGTERM');
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'done');
    assert.deepEqual(await within(shim.exited, 2000, 'exit after drain'), { code: 0, signal: null });
  } finally {
    await shim.stop();
  }

  const crashing = await startFunction('node', { 'routes.cjs': WEB_ROUTES }, { entry: 'routes.cjs' });
  try {
    await crashing.shim.request({ path: '/crash', id: 'inv-crash' });
    assert.equal((await within(crashing.shim.exited, 2000, 'exit after crash')).code, 1);
    assert.ok(crashing.shim.logs.some((l) => l.s === 'err' && l.m.includes('crash later')));
  } finally {
    await crashing.shim.stop();
  }
});
