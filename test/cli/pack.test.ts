import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { list, type ReadEntry } from 'tar';
import { listPackageEntries, packFolder } from '../../src/cli/pack.js';
import { removeDir, tempDir, writeTree } from './helpers.js';

async function readArchive(bytes: Buffer): Promise<{ path: string; type: string; size: number; uid: number | undefined; mtime: Date | undefined; body: string }[]> {
  const entries: { path: string; type: string; size: number; uid: number | undefined; mtime: Date | undefined; body: string }[] = [];
  const parser = list({
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () =>
        entries.push({ path: entry.path, type: entry.type, size: entry.size, uid: entry.uid, mtime: entry.mtime, body: Buffer.concat(chunks).toString('utf8') }),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
    Readable.from([bytes]).pipe(parser as unknown as NodeJS.WritableStream);
  });
  return entries;
}

describe('packFolder', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
    await writeTree(dir, {
      'index.js': 'export default { fetch() { return new Response("hi") } }\n',
      'lib/util.js': 'export const x = 1;\n',
      'node_modules/tiny/package.json': '{"name":"tiny"}',
      'node_modules/tiny/index.js': 'module.exports = 1;\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.git/objects/ab/cdef': 'x',
      '.nimbus/store.db': 'data',
      'node_modules/dep/.git/config': 'x',
      '.env.example': 'A=1\n',
    });
    await symlink('lib/util.js', join(dir, 'link.js'));
  });
  after(() => removeDir(dir));

  it('packs entries relative to the folder, skipping .git and .nimbus, keeping node_modules', async () => {
    const packed = await packFolder(dir);
    assert.equal(packed.bytes[0], 0x1f, 'gzip magic');
    assert.equal(packed.bytes[1], 0x8b, 'gzip magic');
    const entries = await readArchive(packed.bytes);
    const paths = entries.map((e) => e.path);
    assert.deepEqual(paths, [
      '.env.example',
      'index.js',
      'lib/',
      'lib/util.js',
      'link.js',
      'node_modules/',
      'node_modules/dep/',
      'node_modules/tiny/',
      'node_modules/tiny/index.js',
      'node_modules/tiny/package.json',
    ]);
    for (const p of paths) {
      assert.ok(!p.startsWith('/') && !p.startsWith('./') && !p.split('/').includes('..'), `relative path: ${p}`);
      assert.ok(!p.split('/').includes('.git') && !p.split('/').includes('.nimbus'), `skipped: ${p}`);
    }
    const index = entries.find((e) => e.path === 'index.js')!;
    assert.equal(index.type, 'File');
    assert.match(index.body, /new Response\("hi"\)/);
    assert.equal(entries.find((e) => e.path === 'link.js')!.type, 'SymbolicLink');
    assert.equal(packed.files, 5);
    assert.ok(packed.unpackedBytes > 0);
  });

  it('is reproducible: the same files give the same bytes', async () => {
    const a = await packFolder(dir);
    const b = await packFolder(dir);
    assert.ok(a.bytes.equals(b.bytes));
  });

  it('lists entries in sorted order', async () => {
    const listing = await listPackageEntries(dir);
    assert.deepEqual([...listing.entries].sort(), listing.entries);
  });

  it('refuses an empty folder', async () => {
    const empty = await tempDir();
    try {
      await writeTree(empty, { '.git/HEAD': 'x' });
      await assert.rejects(packFolder(empty), /Nothing to deploy/);
    } finally {
      await removeDir(empty);
    }
  });
});
