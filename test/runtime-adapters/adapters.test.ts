import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { test } from 'node:test';
import * as protocol from '../../src/core/runtime-protocol.js';
import { createPythonAdapter, findPython, packageRoot, runtimeAdapters } from '../../src/runtime-adapters/index.js';

test('packageRoot finds the folder with our package.json', () => {
  const root = packageRoot();
  assert.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name, 'nimbus-faas');
});

test('node adapter: this node, a heap limit of ~80% of memory, the compiled shim', () => {
  const { command, args } = runtimeAdapters.node.command({ memoryMb: 256 });
  assert.equal(command, process.execPath);
  assert.equal(args[0], '--max-old-space-size=204');
  assert.ok(isAbsolute(args[1]!) && args[1]!.endsWith(join('dist', 'src', 'runtimes', 'node', 'shim.cjs')));
  assert.ok(existsSync(args[1]!));
  assert.equal(runtimeAdapters.node.command({ memoryMb: 16 }).args[0], '--max-old-space-size=16');
});

test('python adapter: system python3, isolated mode, the shim from src/, the memory limit', () => {
  const { command, args } = runtimeAdapters.python.command({ memoryMb: 512 });
  assert.equal(command, '/usr/bin/python3');
  assert.deepEqual(args.slice(0, 2), ['-I', '-B']);
  assert.ok(isAbsolute(args[2]!) && args[2]!.endsWith(join('src', 'runtimes', 'python', 'shim.py')));
  assert.ok(existsSync(args[2]!));
  assert.deepEqual(args.slice(3), ['--memory-mb', '512']);
  assert.throws(() => createPythonAdapter(undefined).command({ memoryMb: 128 }), /No python3 interpreter/);
});

test('findPython never picks a version-manager shim', () => {
  const found = findPython('/root/.pyenv/shims:/home/x/.asdf/shims:/usr/bin');
  assert.ok(found && !found.includes('shims'));
});

test('the python shim mirrors the protocol constants', () => {
  const source = readFileSync(runtimeAdapters.python.command({ memoryMb: 128 }).args[2]!, 'utf8');
  for (const name of ['INIT_PATH', 'HEALTH_PATH', 'INVOCATION_ID_HEADER', 'DEADLINE_HEADER', 'SHIM_ERROR_HEADER', 'CONTROL_FD'] as const) {
    const value = protocol[name];
    assert.ok(source.includes(`${name} = ${typeof value === 'string' ? `"${value}"` : value}\n`), name);
  }
});
