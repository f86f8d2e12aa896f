import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import { TreeWriter } from '../../src/packages/tree-writer.js';
import { removeDir, tempDir } from './helpers.js';

let dir: string;
before(async () => {
  dir = await tempDir();
});
after(() => removeDir(dir));

async function* bytes(total: number, chunk = 64 * 1024): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < total; sent += chunk) yield Buffer.alloc(Math.min(chunk, total - sent));
}

test('bytes are counted as written, whatever size the archive declared', async () => {
  const root = `${dir}/lying`;
  const writer = new TreeWriter(`${dir}`, { maxEntries: 10, maxUnpackedBytes: 1024 * 1024 });
  await writer.directory(writer.admit('lying/'));
  await assert.rejects(
    writer.file(writer.admit('lying/big.bin'), 0o644, bytes(2 * 1024 * 1024), 10),
    (err: unknown) => isNimbusError(err) && err.code === 'ARCHIVE_TOO_LARGE',
  );
  assert.deepEqual(await readdir(root), ['big.bin'], 'stopped part-way (the caller removes the work dir)');
});

test('a directory may be listed after its files, and twice', async () => {
  const writer = new TreeWriter(dir, { maxEntries: 10, maxUnpackedBytes: 1024 });
  await writer.file(writer.admit('later/a.js'), undefined, bytes(3));
  await writer.directory(writer.admit('later/'));
  await writer.directory(writer.admit('./later'));
  await writer.directory(writer.admit('./'));
  assert.deepEqual(await readdir(`${dir}/later`), ['a.js']);
});

test('admit counts every entry against the limit', () => {
  const writer = new TreeWriter(dir, { maxEntries: 2, maxUnpackedBytes: 1024 });
  writer.admit('a');
  writer.admit('b/');
  assert.throws(() => writer.admit('c'), (err: unknown) => isNimbusError(err) && err.code === 'ARCHIVE_TOO_MANY_ENTRIES');
});
