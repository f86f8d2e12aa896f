import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRunDir, removeStaleRunDirs, RUN_DIR_PID_FILE } from '../../src/providers/local/run-dir.js';

const DEAD = 999_999_001;
const ALIVE = 999_999_002;
const isAlive = (pid: number) => pid === ALIVE;

describe('run directories', () => {
  let parent: string;
  before(async () => {
    parent = await mkdtemp(join(tmpdir(), 'rundir-test-'));
  });
  after(() => rm(parent, { recursive: true, force: true }));

  async function runDir(name: string, pid?: string): Promise<string> {
    const dir = join(parent, name);
    await mkdir(join(dir, 'p1'), { recursive: true });
    if (pid !== undefined) await writeFile(join(dir, RUN_DIR_PID_FILE), pid);
    return dir;
  }

  it('createRunDir records the platform pid, owner-only', async () => {
    const dir = createRunDir(parent);
    assert.match(dir, /\/nimbus-[A-Za-z0-9]{6}$/);
    assert.equal(await readFile(join(dir, RUN_DIR_PID_FILE), 'utf8'), `${process.pid}\n`);
    assert.equal((await stat(join(dir, RUN_DIR_PID_FILE))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    await rm(dir, { recursive: true });
  });

  it('removes only directories whose recorded platform is gone', async () => {
    const dead = await runDir('nimbus-dead01', `${DEAD}\n`);
    const alive = await runDir('nimbus-alive1', `${ALIVE}\n`);
    const mine = await runDir('nimbus-mine01', `${process.pid}\n`);
    const noPid = await runDir('nimbus-nopid1');
    const garbage = await runDir('nimbus-garbag', 'not a pid');
    const otherName = await runDir('other-dead01', `${DEAD}\n`);
    // A link named like a run dir, to a directory that looks stale: never followed.
    const target = await runDir('target', `${DEAD}\n`);
    await symlink(target, join(parent, 'nimbus-link01'));
    await writeFile(join(parent, 'nimbus-file01'), `${DEAD}\n`);

    assert.deepEqual(await removeStaleRunDirs(parent, isAlive), [dead]);
    assert.equal(existsSync(dead), false);
    for (const kept of [alive, mine, noPid, garbage, otherName, target, join(parent, 'nimbus-link01'), join(parent, 'nimbus-file01')]) {
      assert.ok(existsSync(kept), kept);
    }
  });

  it('a missing parent is nothing to clean', async () => {
    assert.deepEqual(await removeStaleRunDirs(join(parent, 'missing'), isAlive), []);
  });
});
