import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { isNimbusError, type ErrorCode } from '../../src/core/errors.js';
import { FsPackageRepository } from '../../src/packages/repository.js';
import type { UploadHints } from '../../src/packages/types.js';
import { body, dataState, pyArchive, removeDir, tempDir, tgz, type PyEntry } from './helpers.js';

const LIMITS = { maxCompressedBytes: 256 * 1024, maxUnpackedBytes: 1024 * 1024, maxEntries: 20 };

/** Hostile or broken uploads, each with the error it must get. Archives are made lazily. */
const CASES: Array<{ name: string; upload: () => Buffer | Promise<Buffer>; code: ErrorCode; message?: RegExp; hints?: UploadHints }> = [
  // Paths
  { name: 'tar: absolute path', upload: () => tar([{ name: '/tmp/nimbus-evil' }]), code: 'UNSAFE_ARCHIVE_PATH', message: /"\/tmp\/nimbus-evil" has an absolute path/ },
  { name: 'tar: ../ path', upload: () => tar([{ name: 'ok.js' }, { name: '../evil' }]), code: 'UNSAFE_ARCHIVE_PATH', message: /"\.\.\/evil"/ },
  { name: 'tar: .. in the middle', upload: () => tar([{ name: 'a/../../evil' }]), code: 'UNSAFE_ARCHIVE_PATH' },
  { name: 'tar: backslash path', upload: () => tar([{ name: '..\\evil' }]), code: 'UNSAFE_ARCHIVE_PATH' },
  { name: 'tar: newline in a name', upload: () => tar([{ name: 'ok.js' }, { name: 'a\nINFO forged.js' }]), code: 'UNSAFE_ARCHIVE_PATH', message: /control character/ },
  { name: 'tar: escape sequence in a name', upload: () => tar([{ name: 'x\u001b[2J.js' }]), code: 'UNSAFE_ARCHIVE_PATH', message: /control character/ },
  { name: 'tar: carriage return in a folder name', upload: () => tar([{ name: 'a\rb/index.js' }]), code: 'UNSAFE_ARCHIVE_PATH' },
  { name: 'tar: C1 control in a name', upload: () => tar([{ name: 'a\u009bb.js' }]), code: 'UNSAFE_ARCHIVE_PATH' },
  // Zip names reach us as control characters only when flagged UTF-8 (Python sets the flag for
  // non-ASCII names); legacy CP437 names decode bytes below 0x20 as printable glyphs.
  { name: 'zip: newline in a UTF-8 name', upload: () => zip([{ name: 'ok.js' }, { name: 'é\nb.js' }]), code: 'UNSAFE_ARCHIVE_PATH', message: /control character/ },
  { name: 'zip: escape in a UTF-8 name', upload: () => zip([{ name: 'é\u001b]0;x\u0007.js' }]), code: 'UNSAFE_ARCHIVE_PATH' },
  { name: 'zip: absolute path', upload: () => zip([{ name: '/tmp/nimbus-evil' }]), code: 'UNSAFE_ARCHIVE_PATH', message: /absolute path/ },
  { name: 'zip: ../ path', upload: () => zip([{ name: 'ok.js' }, { name: '../evil' }]), code: 'UNSAFE_ARCHIVE_PATH', message: /"\.\.\/evil"/ },
  // Links and special files
  { name: 'tar: symlink to /etc', upload: () => tar([{ name: 'index.js' }, { name: 'etc', type: 'symlink', target: '/etc' }]), code: 'UNSAFE_ARCHIVE_LINK', message: /"etc".*absolute path "\/etc"/ },
  { name: 'tar: symlink climbing out', upload: () => tar([{ name: 'index.js' }, { name: 'sub/x', type: 'symlink', target: '../../x' }]), code: 'UNSAFE_ARCHIVE_LINK', message: /outside the package/ },
  {
    name: 'tar: link chain leaving through another link',
    upload: () => tar([{ name: 'index.js' }, { name: 'a', type: 'symlink', target: '.' }, { name: 'b', type: 'symlink', target: 'a/..' }]),
    code: 'UNSAFE_ARCHIVE_LINK',
    message: /"b"/,
  },
  { name: 'tar: link loop', upload: () => tar([{ name: 'index.js' }, { name: 'x', type: 'symlink', target: 'y' }, { name: 'y', type: 'symlink', target: 'x' }]), code: 'UNSAFE_ARCHIVE_LINK', message: /loop/ },
  {
    name: 'tar: file written through a link',
    upload: () => tar([{ name: 'sub', type: 'dir' }, { name: 'l', type: 'symlink', target: 'sub' }, { name: 'l/f.js' }]),
    code: 'UNSAFE_ARCHIVE_LINK',
    message: /through the link l/,
  },
  { name: 'tar: hard link outside', upload: () => tar([{ name: 'index.js' }, { name: 'pw', type: 'hardlink', target: '../../etc/passwd' }]), code: 'UNSAFE_ARCHIVE_LINK' },
  { name: 'tar: hard link to an absolute path', upload: () => tar([{ name: 'index.js' }, { name: 'pw', type: 'hardlink', target: '/etc/passwd' }]), code: 'UNSAFE_ARCHIVE_LINK' },
  { name: 'tar: hard link to nothing earlier', upload: () => tar([{ name: 'pw', type: 'hardlink', target: 'later.js' }, { name: 'later.js' }]), code: 'UNSAFE_ARCHIVE_LINK' },
  { name: 'tar: character device', upload: () => tar([{ name: 'index.js' }, { name: 'null', type: 'chr' }]), code: 'UNSAFE_ARCHIVE_LINK', message: /special file/ },
  { name: 'tar: fifo', upload: () => tar([{ name: 'index.js' }, { name: 'pipe', type: 'fifo' }]), code: 'UNSAFE_ARCHIVE_LINK' },
  { name: 'zip: symlink to /etc/passwd', upload: () => zip([{ name: 'index.js' }, { name: 'pw', type: 'symlink', target: '/etc/passwd' }]), code: 'UNSAFE_ARCHIVE_LINK' },
  { name: 'zip: symlink climbing out', upload: () => zip([{ name: 'index.js' }, { name: 'x', type: 'symlink', target: '../../x' }]), code: 'UNSAFE_ARCHIVE_LINK' },
  { name: 'zip: fifo', upload: () => zip([{ name: 'index.js' }, { name: 'pipe', type: 'fifo' }]), code: 'UNSAFE_ARCHIVE_LINK' },
  // Limits
  { name: 'tar: too many entries', upload: () => tar(manyFiles(25)), code: 'ARCHIVE_TOO_MANY_ENTRIES', message: /more than 20 entries/ },
  { name: 'zip: too many entries', upload: () => zip(manyFiles(25)), code: 'ARCHIVE_TOO_MANY_ENTRIES' },
  { name: 'tar: unpacks too big', upload: () => tar([{ name: 'a.bin', zeros: 600_000 }, { name: 'b.bin', zeros: 600_000 }]), code: 'ARCHIVE_TOO_LARGE', message: /unpacks to more than the 1 MB limit/ },
  { name: 'zip: bomb', upload: () => zip([{ name: 'bomb.bin', zeros: 2_000_000 }]), code: 'ARCHIVE_TOO_LARGE' },
  { name: 'zip: lying about its size', upload: () => zip([{ name: 'liar.bin', zeros: 2_000_000, lieSize: 100 }]), code: 'INVALID_ARCHIVE', message: /does not match its recorded size/ },
  { name: 'upload over the compressed limit', upload: () => randomBytes(300 * 1024), code: 'ARCHIVE_TOO_LARGE', message: /larger than the 256 KB limit/ },
  // Broken or not archives
  { name: 'tar.gz: truncated', upload: async () => (await tgz({ 'index.js': randomBytes(4000).toString('hex') })).subarray(0, 1500), code: 'INVALID_ARCHIVE', message: /tar\.gz/ },
  { name: 'gzip magic then garbage', upload: () => Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(2000)]), code: 'INVALID_ARCHIVE' },
  { name: 'gzip of something that is not tar', upload: () => gzipSync('console.log("hello")\n'), code: 'INVALID_ARCHIVE' },
  { name: 'zip: truncated', upload: () => zip([{ name: 'index.js', data: randomBytes(3000).toString('base64') }]).subarray(0, 1000), code: 'INVALID_ARCHIVE', message: /zip/ },
  { name: 'bzip2 archive', upload: () => Buffer.concat([Buffer.from('BZh91AY&SY'), randomBytes(100)]), code: 'INVALID_ARCHIVE', message: /bzip2/ },
  { name: 'tar: the same path twice', upload: () => tar([{ name: 'index.js' }, { name: 'index.js' }]), code: 'INVALID_ARCHIVE', message: /more than once/ },
  { name: 'tar: a file used as a folder', upload: () => tar([{ name: 'a' }, { name: 'a/b.js' }]), code: 'INVALID_ARCHIVE' },
  // Nothing in it
  { name: 'empty upload', upload: () => Buffer.alloc(0), code: 'EMPTY_PACKAGE' },
  { name: 'tar: only folders', upload: () => tar([{ name: 'a', type: 'dir' }, { name: 'a/b', type: 'dir' }]), code: 'EMPTY_PACKAGE' },
  { name: 'zip: no entries', upload: () => zip([]), code: 'EMPTY_PACKAGE' },
  // Single files
  { name: 'file name with a folder', upload: () => Buffer.from('x'), hints: { filename: 'a/index.js' }, code: 'INVALID_REQUEST' },
  { name: 'file name ..', upload: () => Buffer.from('x'), hints: { filename: '..' }, code: 'INVALID_REQUEST' },
];

function tar(entries: PyEntry[]): Buffer {
  return pyArchive('tgz', entries.map((e) => ({ data: 'module.exports = 1;', ...e })));
}
function zip(entries: PyEntry[]): Buffer {
  return pyArchive('zip', entries.map((e) => ({ data: 'module.exports = 1;', ...e })));
}
function manyFiles(n: number): PyEntry[] {
  return Array.from({ length: n }, (_, i) => ({ name: `f${i}.js` }));
}

describe('FsPackageRepository: refusing uploads', () => {
  let dataDir: string;
  let repo: FsPackageRepository;
  before(async () => {
    dataDir = await tempDir();
    repo = new FsPackageRepository(dataDir, LIMITS);
    // Something already stored, to check that refusals leave it alone.
    await repo.ingest(body(await tgz({ 'index.js': 'module.exports = 1;' })), {});
  });
  after(() => removeDir(dataDir));

  async function expectRefused(upload: Readable, code: ErrorCode, hints: UploadHints = {}, message?: RegExp): Promise<void> {
    const before = await dataState(dataDir);
    await assert.rejects(repo.ingest(upload, hints), (err: unknown) => {
      assert.ok(isNimbusError(err), `not a NimbusError: ${String(err)}`);
      assert.equal(err.code, code, err.message);
      if (message) assert.match(err.message, message);
      return true;
    });
    const after = await dataState(dataDir);
    assert.deepEqual(after.packages, before.packages, 'packages/ gained nothing');
    assert.deepEqual(after.builds, before.builds, 'builds/ gained nothing');
    assert.deepEqual(after.tmp, [], 'tmp/ is empty');
  }

  for (const c of CASES) {
    test(`${c.name} -> ${c.code}`, async () => {
      await expectRefused(body(await c.upload()), c.code, c.hints, c.message);
    });
  }

  test('an oversized stream is refused at the limit and then drained, not destroyed', async () => {
    let produced = 0;
    const upload = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) {
          produced++;
          yield Buffer.alloc(16 * 1024, 1);
        }
      })(),
    );
    const ended = new Promise((resolve) => upload.once('end', resolve));
    await expectRefused(upload, 'ARCHIVE_TOO_LARGE');
    await ended;
    assert.equal(produced, 64);
    assert.equal(upload.destroyed, true, 'auto-destroyed after a normal end');
  });

  test('a body that fails mid-upload is refused with nothing left behind', async () => {
    let sent = false;
    const upload = new Readable({
      read() {
        if (sent) setImmediate(() => this.destroy(new Error('connection reset')));
        else this.push(Buffer.from([0x1f, 0x8b, 8, 0]));
        sent = true;
      },
    });
    await expectRefused(upload, 'INVALID_REQUEST', {}, /interrupted/);
  });

  test('a body that failed before ingest started is refused', async () => {
    const upload = new Readable({ read() {} });
    upload.destroy(new Error('client went away'));
    // Called at once: the error event is still pending and must not go unhandled.
    await assert.rejects(repo.ingest(upload, {}), (err: unknown) => isNimbusError(err) && err.code === 'INVALID_REQUEST');
    assert.deepEqual((await dataState(dataDir)).tmp, []);
  });
});

describe('FsPackageRepository: decompression bombs', () => {
  test('a tar.gz expanding more than 1000-fold is refused even under the size limits', async () => {
    const dataDir = await tempDir();
    try {
      const repo = new FsPackageRepository(dataDir);
      await assert.rejects(repo.ingest(body(tar([{ name: 'zeros.bin', zeros: 40_000_000 }])), {}), (err: unknown) => {
        assert.ok(isNimbusError(err));
        assert.equal(err.code, 'ARCHIVE_TOO_LARGE');
        assert.match(err.message, /1000-fold/);
        return true;
      });
      assert.deepEqual(await dataState(dataDir), { packages: [], builds: [], tmp: [] });
    } finally {
      await removeDir(dataDir);
    }
  });
});
