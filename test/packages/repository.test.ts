import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import { FsPackageRepository } from '../../src/packages/repository.js';
import { body, dataState, entriesOf, pyArchive, removeDir, tempDir, tgz } from './helpers.js';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('FsPackageRepository: accepting packages', () => {
  let dataDir: string;
  let repo: FsPackageRepository;
  before(async () => {
    dataDir = await tempDir();
    repo = new FsPackageRepository(dataDir);
  });
  after(() => removeDir(dataDir));

  test('a tar.gz is stored unpacked under its sha256, with normalised modes', async () => {
    const files = {
      'index.ts': 'export default () => new Response("hi");\n',
      'lib/util.ts': 'export const x = 1;\n',
      'bin/run.sh': { content: '#!/bin/sh\n', mode: 0o4775 },
      'secret.txt': { content: 'x', mode: 0o600 },
    };
    const bytes = await tgz(files);
    const unpackedBytes = Object.values(files).reduce((n, f) => n + Buffer.byteLength(typeof f === 'string' ? f : f.content), 0);
    const info = await repo.ingest(body(bytes), {});
    assert.deepEqual(info, { sha256: sha(bytes), size: bytes.length, format: 'tar.gz', files: 4, unpackedBytes });
    const tree = repo.treeDir(info.sha256);
    assert.equal(tree, join(dataDir, 'packages', info.sha256));
    assert.equal(await readFile(join(tree, 'lib/util.ts'), 'utf8'), 'export const x = 1;\n');
    assert.equal((await stat(join(tree, 'bin/run.sh'))).mode & 0o7777, 0o755, 'executable, setuid and group write dropped');
    assert.equal((await stat(join(tree, 'secret.txt'))).mode & 0o7777, 0o644);
    assert.equal((await stat(join(tree, 'lib'))).mode & 0o7777, 0o755);
    assert.equal(await repo.has(info.sha256), true);
    assert.deepEqual((await dataState(dataDir)).tmp, []);
  });

  test('an archive of one folder is stored with that folder as the root', async () => {
    const info = await repo.ingest(body(await tgz({ 'index.js': 'module.exports = 1;', 'src/a.js': '' }, 'myfn')), {});
    assert.deepEqual(await entriesOf(repo.treeDir(info.sha256)), ['index.js', 'src']);
  });

  test('a folder next to a file at the root is kept as it is', async () => {
    const info = await repo.ingest(body(await tgz({ 'index.js': '1', 'src/a.js': '2' })), {});
    assert.deepEqual(await entriesOf(repo.treeDir(info.sha256)), ['index.js', 'src']);
  });

  test('a zip with folders, an executable and a link inside the package is accepted', async () => {
    const bytes = pyArchive('zip', [
      { name: 'src/', type: 'dir' },
      { name: 'src/app.py', data: 'def handler(e, c):\n  return 1\n' },
      { name: 'run', data: '#!/bin/sh\n', mode: 0o755 },
      { name: 'app.py', type: 'symlink', target: 'src/app.py' },
    ]);
    const info = await repo.ingest(body(bytes), { contentType: 'application/zip' });
    assert.equal(info.format, 'zip');
    assert.equal(info.files, 2);
    const tree = repo.treeDir(info.sha256);
    assert.equal(await readlink(join(tree, 'app.py')), 'src/app.py');
    assert.match(await readFile(join(tree, 'app.py'), 'utf8'), /def handler/);
    assert.equal((await stat(join(tree, 'run'))).mode & 0o777, 0o755);
  });

  test('tar links inside the package are kept: symlinks, and hard links to earlier files', async () => {
    const bytes = pyArchive('tgz', [
      { name: 'lib/real.js', data: 'module.exports = 42;' },
      { name: 'alias.js', type: 'symlink', target: 'lib/real.js' },
      { name: 'lib/up.js', type: 'symlink', target: '../alias.js' },
      { name: 'copy.js', type: 'hardlink', target: 'lib/real.js' },
    ]);
    const info = await repo.ingest(body(bytes), {});
    const tree = repo.treeDir(info.sha256);
    assert.equal(await readFile(join(tree, 'lib/up.js'), 'utf8'), 'module.exports = 42;');
    assert.equal((await lstat(join(tree, 'copy.js'))).ino, (await lstat(join(tree, 'lib/real.js'))).ino);
    assert.equal(info.files, 2);
  });

  test('a single file is stored under the given name, or index.js', async () => {
    const named = await repo.ingest(body('def handler(event, context):\n    return {}\n'), { filename: 'handler.py' });
    assert.equal(named.format, 'file');
    assert.deepEqual(await entriesOf(repo.treeDir(named.sha256)), ['handler.py']);
    const unnamed = await repo.ingest(body('export default () => new Response("x")'), {});
    assert.deepEqual(await entriesOf(repo.treeDir(unnamed.sha256)), ['index.js']);
    assert.equal(unnamed.files, 1);
  });

  test('uploading the same bytes again returns the same info and leaves the tree alone', async () => {
    const bytes = await tgz({ 'index.js': 'module.exports = () => 1;' });
    const first = await repo.ingest(body(bytes), {});
    const before = await stat(join(repo.treeDir(first.sha256), 'index.js'));
    const second = await repo.ingest(body(bytes), {});
    assert.deepEqual(second, first);
    const afterStat = await stat(join(repo.treeDir(first.sha256), 'index.js'));
    assert.equal(afterStat.ino, before.ino);
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
    assert.deepEqual((await dataState(dataDir)).tmp, []);
  });

  test('concurrent uploads of the same bytes both succeed with one stored tree', async () => {
    const bytes = await tgz({ 'index.js': 'module.exports = "race";' });
    const [a, b] = await Promise.all([repo.ingest(body(bytes), {}), repo.ingest(body(bytes), {})]);
    assert.deepEqual(a, b);
    assert.deepEqual(await entriesOf(repo.treeDir(a.sha256)), ['index.js']);
    assert.deepEqual((await dataState(dataDir)).tmp, []);
  });

  test('a large upload streams through without trouble', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const content = big.toString('latin1');
    const bytes = await tgz({ 'data.bin': content, 'index.js': '' });
    const info = await repo.ingest(Readable.from(chunked(bytes, 16 * 1024)), {});
    assert.equal(info.files, 2);
    assert.ok((await readFile(join(repo.treeDir(info.sha256), 'data.bin'))).equals(Buffer.from(content)), 'content intact');
  });

  test('has() is false for unknown or malformed hashes, and treeDir refuses malformed ones', async () => {
    assert.equal(await repo.has('0'.repeat(64)), false);
    assert.equal(await repo.has('../../etc'), false);
    assert.throws(() => repo.treeDir('../x'), (err: unknown) => isNimbusError(err) && err.code === 'INVALID_REQUEST');
  });
});

function* chunked(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
