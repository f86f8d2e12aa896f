import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { LAMBDA_CALLBACK, WEB_ROUTES } from './node-fixtures.js';
import { startFunction, EVENT_LIMIT_MS, within, writeFixtures } from './shim-harness.js';
import { checkControlChannel, checkInitContract, checkLogTagging, checkSigtermDrain } from './shim-contract.js';

test('logs are tagged with the right invocation id when invocations run concurrently', async () => {
  await checkLogTagging('node', { 'routes.cjs': WEB_ROUTES }, 'routes.cjs');
});

test('init: not initialised, health, errors, second init', async () => {
  const codeDir = writeFixtures({ 'cb.js': LAMBDA_CALLBACK, 'broken.js': 'module.exports = {{;', 'none.js': 'exports.x = 1;' });
  const cases = [
    { entry: 'cb.js', export: 'nope', code: 'HANDLER_NOT_FOUND', message: /nope/ },
    { entry: 'missing.js', code: 'HANDLER_NOT_FOUND', message: /missing\.js/ },
    { entry: 'none.js', code: 'HANDLER_NOT_FOUND', message: /handler/ },
    { entry: 'broken.js', code: 'HANDLER_SYNTAX_ERROR', message: /SyntaxError: Unexpected token/ },
  ];
  try {
    await checkInitContract('node', codeDir, cases, 'cb.js');
  } finally {
    rmSync(codeDir, { recursive: true, force: true });
  }
});

test('lifecycle: fd 3 closed -> exit; SIGTERM drains; uncaught exception -> exit 1', async () => {
  await checkControlChannel('node');
  await checkSigtermDrain('node', { 'routes.cjs': WEB_ROUTES }, 'routes.cjs');

  const crashing = await startFunction('node', { 'routes.cjs': WEB_ROUTES }, { entry: 'routes.cjs' });
  try {
    await crashing.shim.request({ path: '/crash', id: 'inv-crash' });
    assert.equal((await within(crashing.shim.exited, EVENT_LIMIT_MS, 'exit after crash')).code, 1);
    assert.ok(crashing.shim.logs.some((l) => l.s === 'err' && l.m.includes('crash later')));
  } finally {
    await crashing.shim.stop();
  }
});
