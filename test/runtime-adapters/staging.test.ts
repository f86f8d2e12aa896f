import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createNodeAdapter, createPythonAdapter, runtimeAdapters } from '../../src/runtime-adapters/index.js';
import { stageRuntimes } from '../../src/runtime-adapters/staging.js';

const root = mkdtempSync(join(tmpdir(), 'nimbus-staging-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('stageRuntimes copies private shim folders into readable ones and points the adapters there', () => {
  // Sources as they are in a checkout under a private folder with a strict umask.
  const nodeShims = join(root, 'private', 'node');
  const pythonShims = join(root, 'private', 'python');
  mkdirSync(join(pythonShims, '__pycache__'), { recursive: true });
  mkdirSync(nodeShims, { recursive: true });
  writeFileSync(join(nodeShims, 'shim.cjs'), '// node shim');
  writeFileSync(join(nodeShims, 'loader.cjs'), '// loader');
  writeFileSync(join(pythonShims, 'shim.py'), '# python shim');
  writeFileSync(join(pythonShims, '__pycache__', 'shim.cpython-311.pyc'), 'stale');
  for (const file of [join(nodeShims, 'shim.cjs'), join(nodeShims, 'loader.cjs'), join(pythonShims, 'shim.py')]) chmodSync(file, 0o600);
  chmodSync(nodeShims, 0o700);
  chmodSync(join(root, 'private'), 0o700);

  const target = join(root, 'run', 'runtimes');
  const staged = stageRuntimes({ node: createNodeAdapter(nodeShims), python: createPythonAdapter('/usr/bin/python3', pythonShims) }, target);

  assert.equal(staged.node.shimDir, join(target, 'node'));
  assert.equal(staged.node.command({ memoryMb: 128 }).args[1], join(target, 'node', 'shim.cjs'));
  assert.equal(staged.python.command({ memoryMb: 128 }).args[2], join(target, 'python', 'shim.py'));
  assert.deepEqual(staged.node.runtimePaths().slice(0, 1), [join(target, 'node')]);
  assert.equal(readFileSync(join(target, 'node', 'loader.cjs'), 'utf8'), '// loader');
  for (const dir of [target, join(target, 'node'), join(target, 'python')]) assert.equal(statSync(dir).mode & 0o777, 0o755, dir);
  for (const file of [join(target, 'node', 'shim.cjs'), join(target, 'python', 'shim.py')]) assert.equal(statSync(file).mode & 0o777, 0o644, file);
  assert.throws(() => statSync(join(target, 'python', '__pycache__')), /ENOENT/, 'bytecode caches are not copied');
});

test('the built-in adapters stage the real shims', () => {
  const staged = stageRuntimes(runtimeAdapters, join(root, 'real'));
  assert.equal(readFileSync(join(staged.node.shimDir, 'shim.cjs'), 'utf8'), readFileSync(join(runtimeAdapters.node.shimDir, 'shim.cjs'), 'utf8'));
  assert.equal(readFileSync(join(staged.python.shimDir, 'shim.py'), 'utf8'), readFileSync(join(runtimeAdapters.python.shimDir, 'shim.py'), 'utf8'));
  // The interpreter is the same; only the shim moved.
  assert.equal(staged.node.command({ memoryMb: 128 }).command, runtimeAdapters.node.command({ memoryMb: 128 }).command);
});
