import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { isNimbusError, type ErrorCode } from '../../src/core/errors.js';
import type { RuntimeName } from '../../src/core/spec.js';
import { EsbuildBuilder } from '../../src/packages/builder.js';
import { FsPackageRepository } from '../../src/packages/repository.js';
import { body, dataState, removeDir, tempDir, tgz, type TreeFile } from './helpers.js';

let dataDir: string;
let repo: FsPackageRepository;
let builder: EsbuildBuilder;
const require = createRequire(import.meta.url);

before(async () => {
  dataDir = await tempDir('nimbus-build-');
  repo = new FsPackageRepository(dataDir);
  builder = new EsbuildBuilder(dataDir, repo);
});
after(() => removeDir(dataDir));

async function upload(files: Record<string, TreeFile>): Promise<string> {
  return (await repo.ingest(body(await tgz(files)), {})).sha256;
}

type Options = { runtime?: RuntimeName; handler?: string };

async function refuses(files: Record<string, TreeFile>, options: Options, code: ErrorCode, message?: RegExp): Promise<void> {
  const sha = await upload(files);
  const before = await dataState(dataDir);
  await assert.rejects(builder.build(sha, options), (err: unknown) => {
    assert.ok(isNimbusError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
  const after = await dataState(dataDir);
  assert.deepEqual(after.builds, before.builds, 'builds/ gained nothing');
  assert.deepEqual(after.tmp, [], 'tmp/ is empty');
}

describe('EsbuildBuilder: node', () => {
  test('a TS entry with a local import becomes one CommonJS bundle next to the mirrored files', async () => {
    const sha = await upload({
      'index.ts': 'import { greet } from "./lib/greet";\nexport default { fetch: (): string => greet("nimbus") };\n',
      'lib/greet.ts': 'export function greet(name: string): string { return `hello ${name}`; }\n',
    });
    const result = await builder.build(sha, {});
    assert.equal(result.runtime, 'node');
    assert.equal(result.handler, 'index.ts');
    assert.equal(result.build.entry, '__nimbus_bundle.cjs');
    assert.equal(result.build.source, 'index.ts', 'load errors name the source, not the bundle');
    assert.equal(result.build.export, undefined);
    assert.match(result.build.buildId, /^[a-f0-9]{32}$/);
    const dir = builder.buildDir(result.build.buildId);
    // The source map lies beside the bundle, small (no sources' text) and not named by it, so
    // node never reads it while loading.
    const map = JSON.parse(await readFile(join(dir, '__nimbus_bundle.cjs.map'), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
    assert.deepEqual(map.sources.sort(), ['index.ts', 'lib/greet.ts']);
    assert.equal(map.sourcesContent, undefined);
    assert.doesNotMatch(await readFile(join(dir, result.build.entry), 'utf8'), /sourceMappingURL/);
    const loaded = require(join(dir, result.build.entry)) as { default: { fetch(): string } };
    assert.equal(loaded.default.fetch(), 'hello nimbus');
    const [mirrored, original] = await Promise.all([stat(join(dir, 'lib/greet.ts')), stat(join(repo.treeDir(sha), 'lib/greet.ts'))]);
    assert.equal(mirrored.ino, original.ino, 'package files are hard-linked, not copied');
  });

  test('a Lambda-style handler keeps its export name', async () => {
    const sha = await upload({ 'index.js': 'exports.handler = async (event) => ({ statusCode: 200, body: event.rawPath });\n' });
    const result = await builder.build(sha, { handler: 'index.handler' });
    assert.deepEqual([result.runtime, result.handler, result.build.export], ['node', 'index.handler', 'handler']);
    const loaded = require(join(builder.buildDir(result.build.buildId), result.build.entry)) as { handler(e: object): Promise<object> };
    assert.deepEqual(await loaded.handler({ rawPath: '/x' }), { statusCode: 200, body: '/x' });
  });

  test('dependencies in node_modules are bundled; packages with native addons stay external', async () => {
    const sha = await upload({
      'index.ts': 'import pad from "fake-pad";\nimport native from "fake-native";\nexport default { fetch: () => pad("7") + native.kind };\n',
      'node_modules/fake-pad/package.json': '{"name":"fake-pad","main":"main.js"}',
      'node_modules/fake-pad/main.js': 'module.exports = (s) => "00" + s;\n',
      'node_modules/fake-native/package.json': '{"name":"fake-native","main":"index.js"}',
      'node_modules/fake-native/binding.gyp': '{}',
      'node_modules/fake-native/index.js': 'module.exports = { kind: "-native" };\n',
    });
    const result = await builder.build(sha, {});
    const bundle = join(builder.buildDir(result.build.buildId), result.build.entry);
    const code = await readFile(bundle, 'utf8');
    assert.match(code, /"00" \+ s/, 'fake-pad is inlined');
    assert.match(code, /require\("fake-native"\)/, 'fake-native is loaded from node_modules at run time');
    assert.equal((require(bundle) as { default: { fetch(): string } }).default.fetch(), '007-native');
  });

  test('top-level await makes an ESM bundle that can still require built-ins', async () => {
    const sha = await upload({
      'index.mjs': 'import helper from "./helper.cjs";\nconst base = await Promise.resolve(41);\nexport default { fetch: () => base + helper() };\n',
      'helper.cjs': 'const path = require("node:path");\nmodule.exports = () => path.basename("/a/1");\n',
    });
    const result = await builder.build(sha, {});
    assert.equal(result.build.entry, '__nimbus_bundle.mjs');
    const loaded = (await import(pathToFileURL(join(builder.buildDir(result.build.buildId), result.build.entry)).href)) as { default: { fetch(): string } };
    assert.equal(loaded.default.fetch(), '411');
  });

  test('a syntax error is BUILD_FAILED pointing at file:line:col', async () => {
    await refuses({ 'index.ts': 'const ok = 1;\nexport const broken = ;\n' }, {}, 'BUILD_FAILED', /index\.ts:2:23: Unexpected ";"/);
  });

  test('a missing dependency is BUILD_FAILED saying to run npm install', async () => {
    await refuses({ 'index.js': 'const pad = require("left-pad");\nmodule.exports.handler = () => pad("x", 3);\n' }, { handler: 'index.handler' }, 'BUILD_FAILED', /"left-pad" \(imported at index\.js:1:21\)\. Run `npm install`/);
  });

  test('a missing local file is BUILD_FAILED with its location', async () => {
    await refuses({ 'index.ts': 'import x from "./nope";\nexport default x;\n' }, {}, 'BUILD_FAILED', /index\.ts:1:15: Could not resolve "\.\/nope"/);
  });

  test('a user file with the bundle name is replaced in the build, never written through', async () => {
    const sha = await upload({ 'index.js': 'module.exports.handler = () => 1;\n', '__nimbus_bundle.cjs': 'user content' });
    const result = await builder.build(sha, { handler: 'index.handler' });
    assert.equal(await readFile(join(repo.treeDir(sha), '__nimbus_bundle.cjs'), 'utf8'), 'user content');
    assert.notEqual(await readFile(join(builder.buildDir(result.build.buildId), '__nimbus_bundle.cjs'), 'utf8'), 'user content');
  });
});

describe('EsbuildBuilder: python', () => {
  test('python code is mirrored, not bundled', async () => {
    const sha = await upload({ 'handler.py': 'def handler(event, context):\n    return {}\n', 'lib/util.py': '' });
    const result = await builder.build(sha, {});
    assert.deepEqual(result, { runtime: 'python', handler: 'handler.handler', build: { buildId: result.build.buildId, entry: 'handler.py', export: 'handler' } });
    const dir = builder.buildDir(result.build.buildId);
    assert.equal(await readFile(join(dir, 'lib/util.py'), 'utf8'), '');
    await assert.rejects(stat(join(dir, '__nimbus_bundle.cjs')));
  });

  test('a handler that is not there is HANDLER_NOT_FOUND, and nothing is built', async () => {
    await refuses({ 'app.py': 'def main(e, c):\n    pass\n' }, { handler: 'app.handler' }, 'HANDLER_NOT_FOUND', /app\.py does not define handler\(\)/);
  });
});

describe('EsbuildBuilder: reuse', () => {
  test('the same request reuses the build; another handler makes another build', async () => {
    const sha = await upload({ 'index.js': 'exports.a = () => 1;\nexports.b = () => 2;\n' });
    const first = await builder.build(sha, { handler: 'index.a' });
    const before = await stat(join(builder.buildDir(first.build.buildId), first.build.entry));
    const [second, third] = await Promise.all([builder.build(sha, { handler: 'index.a' }), builder.build(sha, { handler: 'index.a' })]);
    assert.deepEqual(second, first);
    assert.deepEqual(third, first);
    assert.equal((await stat(join(builder.buildDir(first.build.buildId), first.build.entry))).ino, before.ino);
    const other = await builder.build(sha, { handler: 'index.b' });
    assert.notEqual(other.build.buildId, first.build.buildId);
    assert.deepEqual((await dataState(dataDir)).tmp, []);
  });

  test('concurrent first builds of the same thing both succeed', async () => {
    const sha = await upload({ 'index.ts': 'export default { fetch: () => "c" };\n' });
    const results = await Promise.all([builder.build(sha, {}), builder.build(sha, {}), builder.build(sha, {})]);
    assert.equal(new Set(results.map((r) => r.build.buildId)).size, 1);
    assert.deepEqual((await dataState(dataDir)).tmp, []);
  });

  test('an unknown package is PACKAGE_NOT_FOUND', async () => {
    await assert.rejects(builder.build('f'.repeat(64), {}), (err: unknown) => isNimbusError(err) && err.code === 'PACKAGE_NOT_FOUND');
  });
});
