import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, rmdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CGROUP_PREFIX } from '../../src/sandbox/probe.js';
import { startPlatform } from '../integration/harness.js';
import { hostHas } from './host-needs.js';
import { CgroupV1Driver, CgroupV2Driver, detectCgroups, removeBases } from '../../src/sandbox/cgroups.js';

/**
 * The v1 and v2 drivers against plain directories standing in for the cgroup file systems (what
 * they write, what they read back), then the driver detected on this host against the real kernel.
 */
describe('cgroup drivers', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nimbus-cgroup-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('v2 writes memory.max, memory.swap.max, pids.max and cgroup.procs; reads oom_kill from memory.events', async () => {
    const driver = new CgroupV2Driver(join(root, 'unified', 'nimbus-1'));
    const group = await driver.create('p1', { memoryMb: 128, maxProcesses: 32 });
    const dir = join(root, 'unified', 'nimbus-1', 'p1');
    assert.equal(await readFile(join(dir, 'memory.max'), 'utf8'), String(128 * 1024 * 1024));
    assert.equal(await readFile(join(dir, 'memory.swap.max'), 'utf8'), '0');
    assert.equal(await readFile(join(dir, 'pids.max'), 'utf8'), '32');
    await group.addProcess(4242);
    assert.equal(await readFile(join(dir, 'cgroup.procs'), 'utf8'), '4242');
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n');
    assert.equal(await group.outOfMemory(), false);
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n');
    assert.equal(await group.outOfMemory(), true);
  });

  test('v1 writes the memory (and memsw) limit and pids.max in their own hierarchies; reads oom_kill from memory.oom_control', async () => {
    const memory = join(root, 'memory', 'nimbus-1');
    const pids = join(root, 'pids', 'nimbus-1');
    const driver = new CgroupV1Driver(memory, pids);
    const group = await driver.create('p2', { memoryMb: 256, maxProcesses: 64 });
    assert.equal(await readFile(join(memory, 'p2', 'memory.limit_in_bytes'), 'utf8'), String(256 * 1024 * 1024));
    assert.equal(await readFile(join(pids, 'p2', 'pids.max'), 'utf8'), '64');
    await group.addProcess(77);
    assert.equal(await readFile(join(memory, 'p2', 'cgroup.procs'), 'utf8'), '77');
    assert.equal(await readFile(join(pids, 'p2', 'cgroup.procs'), 'utf8'), '77');
    await writeFile(join(memory, 'p2', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    assert.equal(await group.outOfMemory(), true);
  });

  test('detection explains why when no hierarchy is mounted', async () => {
    const { driver, reason } = await detectCgroups('nimbus-test', { mountinfo: '', selfCgroup: '' });
    assert.equal(driver, undefined);
    assert.match(reason, /no cgroup|not both mounted/);
  });

  test('detection skips a v2 hierarchy without the memory and pids controllers', async () => {
    const unified = join(root, 'fake-unified');
    await mkdir(unified, { recursive: true });
    await writeFile(join(unified, 'cgroup.controllers'), 'cpu io');
    const mountinfo = `35 25 0:30 / ${unified} rw,relatime - cgroup2 cgroup2 rw\n`;
    const { driver, reason } = await detectCgroups('nimbus-test', { mountinfo, selfCgroup: '0::/\n' });
    assert.equal(driver, undefined);
    assert.match(reason, /memory and pids controllers are not available/);
  });

  test('on this host: a real process is limited and the cgroup removed after it exits', async (t) => {
    const { driver, reason } = await detectCgroups(`nimbus-test-${process.pid}`);
    if (!hostHas(t, 'cgroups', driver ? undefined : reason) || !driver) return;
    const group = await driver.create('sleeper', { memoryMb: 64, maxProcesses: 4 });
    const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
    await group.addProcess(child.pid!);
    const membership = await readFile(`/proc/${child.pid}/cgroup`, 'utf8');
    assert.match(membership, /sleeper/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await group.remove();
    assert.equal(await group.outOfMemory(), false);
    await removeBases(driver);
  });

  test('on this host: a starting platform removes the cgroups a killed platform left, and keeps those of live ones', async (t) => {
    const { driver, reason } = await detectCgroups(`nimbus-test-${process.pid}`);
    if (!hostHas(t, 'cgroups', driver ? undefined : reason) || !driver) return;
    const parents = driver.bases.map((base) => dirname(base));
    // A platform killed with -9 leaves nimbus-<its pid>/<instance> behind: a pid that has exited.
    const dead = spawn('/bin/true');
    await new Promise((resolve) => dead.once('exit', resolve));
    const live = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
    const leftOver = parents.map((parent) => join(parent, `${CGROUP_PREFIX}${dead.pid}`));
    const kept = parents.map((parent) => join(parent, `${CGROUP_PREFIX}${live.pid}`));
    try {
      for (const dir of [...leftOver, ...kept]) await mkdir(join(dir, 'p-instance'), { recursive: true });
      const platform = await startPlatform();
      await platform.close();
      for (const dir of leftOver) assert.equal(existsSync(dir), false, `${dir} was removed`);
      for (const dir of kept) assert.equal(existsSync(join(dir, 'p-instance')), true, `${dir} of a running platform was kept`);
    } finally {
      live.kill('SIGKILL');
      for (const dir of [...leftOver, ...kept]) {
        await rmdir(join(dir, 'p-instance')).catch(() => undefined);
        await rmdir(dir).catch(() => undefined);
      }
    }
  });
});
