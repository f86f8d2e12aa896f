/**
 * A platform that is not root gives each instance a host uid and gid of its own from its user's
 * subordinate ranges (/etc/subuid, /etc/subgid, newuidmap): no other instance, no process running
 * as `nobody` and no other user can connect to an instance's socket (which would skip invoke keys)
 * or read its memory (where its secrets are), and two platforms of the user never share one. Where
 * the ranges cannot be used, `nimbus doctor` and `nimbus up` say in one line that instances share
 * the platform's uid.
 *
 * Runs as root: it makes a user (test-user.ts) and runs the platform as that user.
 */
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { subuidClaimDir } from '../../src/sandbox/subuid-users.js';
import { api, deploy, invoke, useAdminToken, waitFor, writeFunction } from './harness.js';
import { createTestUser, dropFolders, folderFor, runAs, testUserProblem, type TestUser } from './test-user.js';

const NOBODY = 65534;
const FIXTURE = 'dist/test/integration/fixtures/user-platform.js';
const problem = testUserProblem() ?? (existsSync('/usr/bin/newuidmap') ? undefined : 'newuidmap is not installed (apt-get install uidmap)');
// Under CI the set-up must be there: the tests run, and fail, rather than skip.
const skip = problem !== undefined && process.env.CI !== 'true' && `needs ${problem}`;

interface Info {
  url: string;
  sandbox: string;
  defaultNetwork: string;
  pid: number;
  protections: Array<{ name: string; active: boolean; detail: string }>;
}

/** The fixture platform running as `user` (fixtures/user-platform.ts). */
class UserPlatform {
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
  }

  info!: Info;

  static async start(user: TestUser, hide: string[] = []): Promise<UserPlatform> {
    const dataDir = folderFor(user, 'nimbus-subuid-data-');
    const platform = new UserPlatform(runAs(user, FIXTURE, [dataDir], hide));
    platform.info = JSON.parse(await platform.next(60_000)) as Info;
    await useAdminToken(platform.info.url, dataDir);
    return platform;
  }

  async pids(name: string): Promise<number[]> {
    this.child.stdin!.write(`pids ${name}\n`);
    return JSON.parse(await this.next(10_000)) as number[];
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }

  private next(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the platform did not answer; its output:\n${this.stderr.slice(-3000)}`)), timeoutMs);
      const onExit = () => reject(new Error(`the platform exited; its output:\n${this.stderr.slice(-3000)}`));
      this.child.once('exit', onExit);
      this.pending.push((line) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolve(line);
      });
    });
  }
}

/** Real, effective, saved and file system ids of a process, and its groups, from /proc. */
function idsOf(pid: number): { uids: number[]; gids: number[]; groups: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const numbers = (key: string) => /^\S+:\s+(.*)$/m.exec(status.split('\n').find((line) => line.startsWith(`${key}:`)) ?? '')![1]!.trim().split(/\s+/).map(Number);
  return { uids: numbers('Uid'), gids: numbers('Gid'), groups: /^Groups:(.*)$/m.exec(status)![1]!.trim() };
}

/** The socket directory of the instance with group `gid`, in the run directory of the platform with pid `platformPid`. */
function socketDirOf(platformPid: number, gid: number): string {
  for (const run of readdirSync(tmpdir()).filter((name) => name.startsWith('nimbus-'))) {
    const dir = join(tmpdir(), run);
    try {
      if (readFileSync(join(dir, 'platform.pid'), 'utf8').trim() !== String(platformPid)) continue;
    } catch {
      continue;
    }
    for (const entry of readdirSync(dir)) {
      const candidate = join(dir, entry);
      if (existsSync(join(candidate, 'fn.sock')) && statSync(candidate).gid === gid) return candidate;
    }
  }
  throw new Error(`no socket directory of group ${gid}`);
}

/** Runs a snippet of node as `uid`/`gid` (no other groups); answers what it printed. */
function runAsIds(uid: number, gid: number, script: string): string {
  const result = spawnSync(process.execPath, ['-e', script], { uid, gid, env: {}, encoding: 'utf8', timeout: 10_000 });
  return (result.stdout + result.stderr).trim();
}
const CONNECT = (socket: string) =>
  `const s = require('net').connect(${JSON.stringify(socket)}); s.on('connect', () => { console.log('connected'); s.destroy(); }); s.on('error', (e) => console.log(e.code));`;
const READ_MEMORY = (pid: number) => `try { require('fs').openSync('/proc/${pid}/mem', 'r'); console.log('opened'); } catch (e) { console.log(e.code); }`;

/** Answers the instance's uid and its network interfaces. */
const WHO_AM_I = 'import os from "node:os"; export default () => Response.json({ uid: process.getuid(), interfaces: Object.keys(os.networkInterfaces()) })';

describe('instances of a platform that is not root run as subordinate uids of its user', { skip, timeout: 240_000 }, () => {
  let user: TestUser;
  let platform: UserPlatform;
  let fn: string;
  before(async () => {
    user = createTestUser();
    platform = await UserPlatform.start(user);
    fn = await writeFunction({ 'index.js': WHO_AM_I });
    await deploy(platform.info.url, 'alpha', fn);
    await deploy(platform.info.url, 'beta', fn, { network: 'none' });
  });
  after(async () => {
    await platform?.close();
    user?.remove();
    dropFolders();
  });

  test('two instances run as two distinct subordinate uids and gids, with no groups; outbound (pasta) and none serve', async () => {
    assert.equal(platform.info.sandbox, 'bubblewrap');
    assert.match(platform.info.protections.find((p) => p.name === 'unprivileged user')!.detail, new RegExp(`a host uid of its own from the subordinate uids of ${user.name} \\(${user.subuids.first} to `));
    const alpha = await invoke(platform.info.url, 'alpha');
    assert.equal(alpha.status, 200, alpha.text);
    const beta = await invoke(platform.info.url, 'beta');
    assert.equal(beta.status, 200, beta.text);
    assert.equal(JSON.parse(alpha.text).uid, NOBODY);
    assert.deepEqual(JSON.parse(beta.text).interfaces, ['lo']);
    // The default network is outbound where pasta runs (CI installs it): pasta attached its interface.
    if (platform.info.defaultNetwork === 'outbound') assert.ok(JSON.parse(alpha.text).interfaces.length > 1, alpha.text);
    else assert.ok(process.env.CI !== 'true', `outbound must be the default under CI, not ${platform.info.defaultNetwork}`);
    const [alphaPid] = await platform.pids('alpha');
    const [betaPid] = await platform.pids('beta');
    const ids = [idsOf(alphaPid!), idsOf(betaPid!)];
    for (const { uids, gids, groups } of ids) {
      assert.equal(new Set(uids).size, 1, `real, effective, saved and fs uid alike: ${uids.join(' ')}`);
      assert.equal(new Set(gids).size, 1, `gids alike: ${gids.join(' ')}`);
      assert.ok(uids[0]! >= user.subuids.first && uids[0]! < user.subuids.first + user.subuids.count, `uid ${uids[0]} in ${user.name}'s subordinate uids`);
      assert.ok(gids[0]! >= user.subgids.first && gids[0]! < user.subgids.first + user.subgids.count, `gid ${gids[0]} in ${user.name}'s subordinate gids`);
      assert.equal(groups, '', 'no supplementary groups (none of the platform user)');
    }
    assert.notEqual(ids[0]!.uids[0], ids[1]!.uids[0]);
    assert.notEqual(ids[0]!.gids[0], ids[1]!.gids[0]);
  });

  test("nobody, another uid and the other instance's uid can neither connect to an instance's socket nor read its memory", async () => {
    const [alphaPid] = await platform.pids('alpha');
    const [betaPid] = await platform.pids('beta');
    const alpha = idsOf(alphaPid!);
    const beta = idsOf(betaPid!);
    const dir = socketDirOf(platform.info.pid, alpha.gids[0]!);
    const info = statSync(dir);
    assert.deepEqual([info.mode & 0o7777, info.uid, info.gid], [0o770, user.uid, alpha.gids[0]], 'socket directory: 0770, the platform user, the instance group');
    const socket = join(dir, 'fn.sock');
    // The controls: the platform's user and the instance's own ids connect (the denials below are about the ids).
    assert.equal(runAsIds(user.uid, user.gid, CONNECT(socket)), 'connected');
    assert.equal(runAsIds(alpha.uids[0]!, alpha.gids[0]!, CONNECT(socket)), 'connected');
    const others: Array<[string, number, number]> = [
      ['nobody', NOBODY, NOBODY],
      ['another uid', 4242, 4242],
      ['the other instance', beta.uids[0]!, beta.gids[0]!],
      ['an unused subordinate uid', user.subuids.first + user.subuids.count - 1, user.subgids.first + user.subgids.count - 1],
    ];
    for (const [who, uid, gid] of others) {
      assert.equal(runAsIds(uid, gid, CONNECT(socket)), 'EACCES', `${who} (${uid}) connecting`);
      assert.equal(runAsIds(uid, gid, READ_MEMORY(alphaPid!)), 'EACCES', `${who} (${uid}) reading /proc/${alphaPid}/mem`);
    }
  });

  test('a python runtime is not dumpable: a process of its own uid, in its instance, cannot read its memory', async () => {
    const dir = await writeFunction({
      'handler.py': `import ctypes, subprocess, sys
def handler(event, context):
    child = subprocess.run([sys.executable, "-c", "open('/proc/1/mem', 'rb')"], capture_output=True, text=True)
    return {"dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), "child": child.stderr.strip().splitlines()[-1]}
`,
    });
    await deploy(platform.info.url, 'py', dir, { network: 'none' });
    const res = await invoke(platform.info.url, 'py');
    assert.equal(res.status, 200, res.text);
    const answer = JSON.parse(res.text) as { dumpable: number; child: string };
    assert.equal(answer.dumpable, 0);
    assert.match(answer.child, /^PermissionError: \[Errno 13\] Permission denied: '\/proc\/1\/mem'$/);
  });

  test('a second platform of the same user takes other subordinate uids: the claims are shared', async () => {
    const second = await UserPlatform.start(user);
    try {
      await deploy(second.info.url, 'gamma', fn, { network: 'none' });
      assert.equal((await invoke(second.info.url, 'gamma')).status, 200);
      const claims = new Map(readdirSync(subuidClaimDir(user.uid)).map((uid) => [Number(uid), Number(readFileSync(join(subuidClaimDir(user.uid), uid), 'utf8'))]));
      const [gammaPid] = await second.pids('gamma');
      const gammaUid = idsOf(gammaPid!).uids[0]!;
      assert.equal(claims.get(gammaUid), second.info.pid, `uid ${gammaUid} claimed by the second platform`);
      for (const name of ['alpha', 'beta']) {
        const uid = idsOf((await platform.pids(name))[0]!).uids[0]!;
        assert.equal(claims.get(uid), platform.info.pid, `uid ${uid} (${name}) claimed by the first platform`);
      }
    } finally {
      await second.close();
    }
  });

  test('an instance that leaves a folder only it may enter in its socket directory is still removed when it ends', async () => {
    const dir = await writeFunction({
      'index.js': `import fs from "node:fs";
        export default () => { fs.mkdirSync("/run/nimbus/kept/inner", { recursive: true }); fs.writeFileSync("/run/nimbus/kept/inner/f", "x"); fs.chmodSync("/run/nimbus/kept/inner", 0o700); fs.chmodSync("/run/nimbus/kept", 0o700); return new Response("left"); }`,
    });
    await deploy(platform.info.url, 'leaver', dir, { network: 'none' });
    assert.equal((await invoke(platform.info.url, 'leaver')).text, 'left');
    const [pid] = await platform.pids('leaver');
    const socketDir = socketDirOf(platform.info.pid, idsOf(pid!).gids[0]!);
    assert.ok(existsSync(join(socketDir, 'kept')));
    assert.equal((await api(platform.info.url, 'DELETE', '/api/v1/functions/leaver')).status, 204);
    await waitFor(() => !existsSync(socketDir), 20_000, `${socketDir} to be removed`);
  });
});

describe('where subordinate uids cannot be used, one line says instances share the platform uid', { skip, timeout: 120_000 }, () => {
  let user: TestUser;
  before(() => {
    user = createTestUser();
  });
  after(() => {
    user?.remove();
    dropFolders();
  });

  /** `nimbus doctor` (and its --json report) as the user, with `hide` files hidden. */
  async function doctor(hide: string[]): Promise<{ human: string; report: { checks: Array<{ name: string; ok: boolean; detail: string }>; protections: Array<{ name: string; detail: string }> } }> {
    const run = async (args: string[]) => {
      const child = runAs(user, 'dist/src/cli/main.js', ['doctor', ...args], hide);
      let out = '';
      let err = '';
      child.stdout!.setEncoding('utf8').on('data', (text: string) => (out += text));
      child.stderr!.setEncoding('utf8').on('data', (text: string) => (err += text));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(code, 0, err);
      return out;
    };
    return { human: await run([]), report: JSON.parse(await run(['--json'])) };
  }

  for (const [what, hide, reason] of [
    ['newuidmap missing', ['/usr/bin/newuidmap'], /newuidmap is not installed \(Debian\/Ubuntu: apt-get install uidmap\)/],
    ['no /etc/subuid entry', ['/etc/subuid'], /has no subordinate uids in \/etc\/subuid/],
  ] as const) {
    test(`${what}: nimbus doctor says so in one line, and what to do`, async () => {
      const { human, report } = await doctor([...hide]);
      const check = report.checks.find((c) => c.name === 'unprivileged user')!;
      assert.equal(check.ok, false);
      assert.match(check.detail, /share that user on the host: /);
      assert.match(check.detail, reason);
      // What `nimbus up` prints under "Protections" (the same row).
      assert.match(report.protections.find((p) => p.name === 'unprivileged user')!.detail, /on the host every instance shares the platform's user: /);
      assert.equal(human.split('\n').filter((line) => /^ {2}unprivileged user +missing +/.test(line)).length, 1);
      assert.match(human, /^ {2}unprivileged user: install uidmap/m);
    });
  }
});
