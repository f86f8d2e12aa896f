/**
 * What `nimbus up` leaves on disk: its data dir owner-only, and no run directory of a platform
 * that was killed (kill -9) once the next one has started.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, startNimbus, tempDir } from './helpers.js';

/** The last status line: the signal handlers are in place from here on. */
const SERVING = /^Press Ctrl-C to stop\.$/m;

describe('nimbus up: files it leaves', () => {
  let dir: string;
  /** The children's TMPDIR: their run directories are created here and nowhere else. */
  let runParent: string;
  before(async () => {
    dir = await tempDir();
    runParent = join(dir, 'run');
    await mkdir(runParent);
    // The sandbox's uid must pass through to reach its sockets, as through /tmp.
    await chmod(dir, 0o711);
    await chmod(runParent, 0o711);
  });
  after(() => removeDir(dir));

  const runDirs = async () => (await readdir(runParent)).filter((name) => name.startsWith('nimbus-')).map((name) => join(runParent, name));

  it('creates the data dir and the store owner-only, and warns about an existing data dir open to others', async () => {
    const dataDir = join(dir, 'fresh');
    const up = startNimbus(['up', '--port', '0', '--data-dir', dataDir], { env: { TMPDIR: runParent } });
    try {
      await up.waitFor(SERVING, 60_000);
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
      assert.equal((await stat(join(dataDir, 'nimbus.db'))).mode & 0o777, 0o600);
      assert.doesNotMatch(up.stderr(), /open to other users/);
    } finally {
      up.signal('SIGTERM');
      await Promise.race([up.exited, new Promise((r) => setTimeout(r, 10_000))]);
      up.kill();
    }
    const shared = join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o755);
    const again = startNimbus(['up', '--port', '0', '--data-dir', shared], { env: { TMPDIR: runParent } });
    try {
      await again.waitFor(SERVING, 60_000);
      assert.match(again.stderr(), /the data dir is open to other users.*chmod 700 it/);
      assert.equal((await stat(shared)).mode & 0o777, 0o755, 'an existing data dir is reported, not changed');
    } finally {
      again.signal('SIGTERM');
      await Promise.race([again.exited, new Promise((r) => setTimeout(r, 10_000))]);
      again.kill();
    }
  });

  it('removes the run directory of a platform killed with kill -9 at the next start', async () => {
    // A platform of the test above that was slow to stop under load may have left one too.
    const earlier = await runDirs();
    const killed = startNimbus(['up', '--port', '0', '--data-dir', join(dir, 'one')], { env: { TMPDIR: runParent } });
    let stale: string | undefined;
    try {
      await killed.waitFor(SERVING, 60_000);
      const found = (await runDirs()).filter((d) => !earlier.includes(d));
      assert.equal(found.length, 1, 'one run directory');
      stale = found[0]!;
    } finally {
      killed.kill(); // SIGKILL: no clean-up runs
      await killed.exited;
    }
    assert.ok(existsSync(stale), 'kill -9 leaves it behind');

    const next = startNimbus(['up', '--port', '0', '--data-dir', join(dir, 'two')], { env: { TMPDIR: runParent } });
    try {
      await next.waitFor(SERVING, 60_000);
      assert.equal(existsSync(stale), false, 'the stale run directory was removed');
      assert.equal((await runDirs()).length, 1, 'only the running platform has one');
    } finally {
      next.signal('SIGTERM');
      await Promise.race([next.exited, new Promise((r) => setTimeout(r, 10_000))]);
      next.kill();
    }
  });
});
