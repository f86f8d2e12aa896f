/**
 * Each instance runs as a host uid of its own (the platform runs as root): no other instance, and
 * no host process running as `nobody`, can connect to its socket (which would skip invoke keys)
 * or read its memory (where its secrets are).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { INSTANCE_UID_RANGE } from '../../src/sandbox/uid-pool.js';
import { deploy, invoke, startPlatform, writeFunction, type TestPlatform } from './harness.js';

const NOBODY = 65534;
const root = process.getuid?.() === 0;
const skip = !root && process.env.CI !== 'true' && 'needs root (runs, and fails, under CI=true)';

/** Host uid of a process, from /proc. */
function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/**
 * The unix socket of the instance running as `uid` (its socket directory is owned by that uid), in
 * the run directory of the platform this test process runs (others' may hold stale sockets of a
 * uid that was given out again).
 */
function socketOf(uid: number): string {
  for (const run of readdirSync(tmpdir()).filter((name) => name.startsWith('nimbus-'))) {
    let entries: string[];
    try {
      if (readFileSync(join(tmpdir(), run, 'platform.pid'), 'utf8').trim() !== String(process.pid)) continue;
      entries = readdirSync(join(tmpdir(), run));
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dir = join(tmpdir(), run, entry);
      try {
        if (statSync(dir).uid === uid && statSync(join(dir, 'fn.sock')).isSocket()) return join(dir, 'fn.sock');
      } catch {
        // not an instance directory
      }
    }
  }
  throw new Error(`no socket owned by uid ${uid}`);
}

/** Runs a snippet of node as `uid`; answers what it printed. */
function runAs(uid: number, script: string): string {
  const result = spawnSync(process.execPath, ['-e', script], { uid, gid: uid, env: {}, encoding: 'utf8', timeout: 10_000 });
  return (result.stdout + result.stderr).trim();
}

const CONNECT = (socket: string) =>
  `const s = require('net').connect(${JSON.stringify(socket)}); s.on('connect', () => { console.log('connected'); s.destroy(); }); s.on('error', (e) => console.log(e.code));`;
const READ_MEMORY = (pid: number) => `try { require('fs').openSync('/proc/${pid}/mem', 'r'); console.log('opened'); } catch (e) { console.log(e.code); }`;

describe('one host uid per instance', { skip }, () => {
  let platform: TestPlatform;
  let dir: string;
  before(async () => {
    platform = await startPlatform();
    dir = await writeFunction({ 'index.js': 'export default () => new Response("ok")' });
    await deploy(platform.url, 'alpha', dir);
    await deploy(platform.url, 'beta', dir);
  });
  after(async () => {
    await platform?.close();
  });

  test('instances of two functions run as distinct uids from the reserved range, in bubblewrap', async () => {
    assert.equal(platform.server.sandbox, 'bubblewrap', 'needs bubblewrap');
    assert.equal((await invoke(platform.url, 'alpha')).status, 200);
    assert.equal((await invoke(platform.url, 'beta')).status, 200);
    const [alpha] = platform.server.instancePids('alpha');
    const [beta] = platform.server.instancePids('beta');
    const uids = [uidOf(alpha!), uidOf(beta!)];
    assert.notEqual(uids[0], uids[1]);
    for (const uid of uids) assert.ok(uid >= INSTANCE_UID_RANGE.first && uid < INSTANCE_UID_RANGE.first + INSTANCE_UID_RANGE.count, `uid ${uid}`);
  });

  test("neither nobody nor another instance's uid can connect to an instance's socket or read its memory", async () => {
    const alphaPid = platform.server.instancePids('alpha')[0]!;
    const betaPid = platform.server.instancePids('beta')[0]!;
    const alphaUid = uidOf(alphaPid);
    const betaUid = uidOf(betaPid);
    const socket = socketOf(alphaUid);
    // The control: the instance's own uid can connect (so the denials below are about the uid).
    assert.equal(runAs(alphaUid, CONNECT(socket)), 'connected');
    for (const uid of [NOBODY, betaUid, INSTANCE_UID_RANGE.first + INSTANCE_UID_RANGE.count - 1]) {
      assert.equal(runAs(uid, CONNECT(socket)), 'EACCES', `uid ${uid} connecting`);
      assert.equal(runAs(uid, READ_MEMORY(alphaPid)), 'EACCES', `uid ${uid} reading /proc/${alphaPid}/mem`);
    }
  });
});
