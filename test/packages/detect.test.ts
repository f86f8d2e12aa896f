import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNimbusError, type ErrorCode } from '../../src/core/errors.js';
import type { RuntimeName } from '../../src/core/spec.js';
import { detectRuntime, resolveHandler } from '../../src/packages/detect.js';
import { removeDir, tempDir, writeTree } from './helpers.js';

const PY = 'def handler(event, context):\n    return {"statusCode": 200}\n';
const JS = 'export default () => new Response("ok");\n';

let root: string;
let count = 0;
before(async () => {
  root = await tempDir('nimbus-detect-');
});
after(() => removeDir(root));

/** A package tree with these files. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = join(root, `t${count++}`);
  await writeTree(dir, files);
  return dir;
}

type Options = { runtime?: RuntimeName; handler?: string };

async function resolves(files: Record<string, string>, options: Options, expected: { runtime: RuntimeName; handler: string; entry: string; export: string | undefined }): Promise<void> {
  assert.deepEqual(await resolveHandler(await tree(files), options), expected);
}

async function refuses(files: Record<string, string>, options: Options, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(resolveHandler(await tree(files), options), (err: unknown) => {
    assert.ok(isNimbusError(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('runtime detection', () => {
  test('python markers win, even next to JS', async () => {
    assert.equal(await detectRuntime(await tree({ 'handler.py': PY, 'index.js': JS })), 'python');
    assert.equal(await detectRuntime(await tree({ 'main.py': PY })), 'python');
    assert.equal(await detectRuntime(await tree({ 'lambda_function.py': PY })), 'python');
  });

  test('.py files alone are python; with package.json or JS/TS they are node', async () => {
    assert.equal(await detectRuntime(await tree({ 'app.py': PY, 'util.py': '' })), 'python');
    assert.equal(await detectRuntime(await tree({ 'tool.py': '', 'package.json': '{}' })), 'node');
    assert.equal(await detectRuntime(await tree({ 'tool.py': '', 'server.ts': JS })), 'node');
  });

  test('JS/TS anywhere outside node_modules is node', async () => {
    assert.equal(await detectRuntime(await tree({ 'src/app.ts': JS })), 'node');
  });

  test('nothing recognisable is RUNTIME_NOT_DETECTED, saying what to pass', async () => {
    await refuses({ 'README.md': '# hi', 'node_modules/x/index.js': '', '.hidden/a.js': '' }, {}, 'RUNTIME_NOT_DETECTED', /--runtime/);
  });
});

describe('node handlers', () => {
  test('defaults: package.json main, then index.* (TS first), then the only JS/TS file', async () => {
    await resolves({ 'package.json': '{"main":"src/server.js"}', 'src/server.js': JS, 'index.js': JS }, {}, { runtime: 'node', handler: 'src/server.js', entry: 'src/server.js', export: undefined });
    await resolves({ 'package.json': '{"main":"dist/gone.js"}', 'index.js': JS, 'index.ts': JS }, {}, { runtime: 'node', handler: 'index.ts', entry: 'index.ts', export: undefined });
    await resolves({ 'package.json': '{"main":"lib"}', 'lib/index.mjs': JS }, {}, { runtime: 'node', handler: 'lib/index.mjs', entry: 'lib/index.mjs', export: undefined });
    await resolves({ 'app.mjs': JS, 'types.d.ts': '' }, {}, { runtime: 'node', handler: 'app.mjs', entry: 'app.mjs', export: undefined });
  });

  test('a given file path, with or without its extension', async () => {
    await resolves({ 'src/app.ts': JS }, { handler: 'src/app.ts' }, { runtime: 'node', handler: 'src/app.ts', entry: 'src/app.ts', export: undefined });
    await resolves({ 'src/app.ts': JS }, { handler: './src/app' }, { runtime: 'node', handler: 'src/app.ts', entry: 'src/app.ts', export: undefined });
  });

  test('Lambda style file.export', async () => {
    await resolves({ 'index.js': 'exports.handler = async () => ({})' }, { handler: 'index.handler' }, { runtime: 'node', handler: 'index.handler', entry: 'index.js', export: 'handler' });
    await resolves({ 'lib/fn.ts': JS }, { runtime: 'node', handler: 'lib/fn.main' }, { runtime: 'node', handler: 'lib/fn.main', entry: 'lib/fn.ts', export: 'main' });
  });

  test('a missing handler is HANDLER_NOT_FOUND naming what was tried', async () => {
    await refuses({ 'index.ts': JS }, { runtime: 'node', handler: 'index.js' }, 'HANDLER_NOT_FOUND', /tried index\.js\)/);
    await refuses({ 'index.ts': JS }, { runtime: 'node', handler: 'app.handler' }, 'HANDLER_NOT_FOUND', /app\.handler.*app\.ts/);
    await refuses({ 'index.ts': JS }, { runtime: 'node', handler: '../outside.js' }, 'HANDLER_NOT_FOUND', /inside the package/);
    await refuses({ 'a.js': JS, 'b.js': JS }, {}, 'HANDLER_NOT_FOUND', /several JS\/TS files at the root \(a\.js, b\.js\).*--handler/);
    await refuses({ 'src/app.ts': JS }, {}, 'HANDLER_NOT_FOUND', /no JS\/TS file at the root/);
  });
});

describe('python handlers', () => {
  test('defaults: handler.py, main.py, lambda_function.py, or the only .py file', async () => {
    await resolves({ 'handler.py': PY }, {}, { runtime: 'python', handler: 'handler.handler', entry: 'handler.py', export: 'handler' });
    await resolves({ 'main.py': 'from app import handler\n', 'app.py': PY }, {}, { runtime: 'python', handler: 'main.handler', entry: 'main.py', export: 'handler' });
    await resolves({ 'lambda_function.py': 'async def lambda_handler(event, context):\n    pass\n' }, {}, { runtime: 'python', handler: 'lambda_function.lambda_handler', entry: 'lambda_function.py', export: 'lambda_handler' });
    await resolves({ 'service.py': 'handler = make_app()\n' }, {}, { runtime: 'python', handler: 'service.handler', entry: 'service.py', export: 'handler' });
  });

  test('module.function with dotted modules and packages', async () => {
    await resolves({ 'pkg/mod.py': 'def fn(e, c):\n  pass\n' }, { handler: 'pkg.mod.fn' }, { runtime: 'python', handler: 'pkg.mod.fn', entry: 'pkg/mod.py', export: 'fn' });
    await resolves({ 'pkg/__init__.py': PY }, { runtime: 'python', handler: 'pkg.handler' }, { runtime: 'python', handler: 'pkg.handler', entry: 'pkg/__init__.py', export: 'handler' });
  });

  test('the handler decides the runtime when it fits only python', async () => {
    await resolves({ 'app.py': PY, 'package.json': '{}' }, { handler: 'app.handler' }, { runtime: 'python', handler: 'app.handler', entry: 'app.py', export: 'handler' });
  });

  test('a missing module or function is HANDLER_NOT_FOUND saying what to add', async () => {
    await refuses({ 'handler.py': PY }, { handler: 'handler.other' }, 'HANDLER_NOT_FOUND', /does not define other\(\).*def other\(event, context\)/);
    await refuses({ 'handler.py': PY }, { runtime: 'python', handler: 'nope.handler' }, 'HANDLER_NOT_FOUND', /tried nope\.py, nope\/__init__\.py/);
    await refuses({ 'handler.py': PY }, { runtime: 'python', handler: 'handler' }, 'HANDLER_NOT_FOUND', /module\.function/);
    await refuses({ 'handler.py': 'def other(): pass\n', 'util.py': '' }, {}, 'HANDLER_NOT_FOUND', /handler\(\) in handler\.py/);
  });
});

describe('a runtime that does not fit the package', () => {
  test('node asked of python files is RUNTIME_MISMATCH naming the files and the runtime to use', async () => {
    await refuses({ 'app.py': PY }, { runtime: 'node' }, 'RUNTIME_MISMATCH', /runtime asked for is node, but the package has no \.js or \.ts file and looks like Python \(app\.py\)\. Deploy it with --runtime python/);
    await refuses({ 'handler.py': PY, 'requirements.txt': '' }, { runtime: 'node', handler: 'handler.handler' }, 'RUNTIME_MISMATCH', /--runtime python/);
  });

  test('python asked of a node folder is RUNTIME_MISMATCH', async () => {
    await refuses({ 'package.json': '{}', 'index.js': JS }, { runtime: 'python' }, 'RUNTIME_MISMATCH', /looks like Node\.js \(index\.js, package\.json\)\. Deploy it with --runtime node \("runtime": "node"\), or leave the runtime out/);
    await refuses({ 'src/app.ts': JS }, { runtime: 'python', handler: 'app.handler' }, 'RUNTIME_MISMATCH', /looks like Node\.js\. Deploy it with --runtime node/);
  });

  test('a runtime with any file of its own is not a mismatch: the handler is looked for as before', async () => {
    await refuses({ 'index.js': JS, 'scripts/tool.py': '' }, { runtime: 'python' }, 'HANDLER_NOT_FOUND');
    await refuses({ 'handler.py': PY, 'build/gen.js': '' }, { runtime: 'node' }, 'HANDLER_NOT_FOUND');
    // Only node_modules has JS: the package is python's.
    await resolves({ 'handler.py': PY, 'node_modules/x/index.js': '' }, { runtime: 'python' }, { runtime: 'python', handler: 'handler.handler', entry: 'handler.py', export: 'handler' });
    // Neither runtime's files: nothing to suggest, so the handler error stays.
    await refuses({ 'README.md': '' }, { runtime: 'python' }, 'HANDLER_NOT_FOUND');
  });
});
