/**
 * A throw-away login user for tests that run a platform as someone other than root (run as root):
 * made with `useradd -m`, with subordinate uid and gid ranges (Debian's useradd adds them when
 * /etc/subuid exists; otherwise they are added here), removed with `userdel -r`, which takes its
 * ranges out of /etc/subuid and /etc/subgid too.
 *
 * {@link runAs} runs a command as that user the way it would run on a usual Debian host: in a mount
 * namespace of its own where the repository is visible at a path the user may walk (CI runs from a
 * clone in a mode-0700 folder) and /dev/net/tun has Debian's usual mode 0666 (some containers keep
 * it root's only), and where chosen files can be hidden (`/dev/null` bound over them).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { subordinateRange } from '../../src/sandbox/subid-ranges.js';
import { subuidClaimDir } from '../../src/sandbox/subuid-users.js';
import type { UidRange } from '../../src/sandbox/uid-pool.js';
import { ROOT } from './harness.js';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  subuids: UidRange;
  subgids: UidRange;
  /** Removes the user (its processes must have ended), its home, its ranges and its claims. */
  remove(): void;
}

/** Why this host cannot run these tests (as root: useradd, setpriv, unshare); undefined when it can. */
export function testUserProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const missing = ['/usr/sbin/useradd', '/usr/sbin/userdel', '/usr/sbin/usermod', '/usr/bin/setpriv', '/usr/bin/unshare'].filter((file) => !existsSync(file));
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined;
}

/** The end of the highest subordinate range any user holds (where new ranges may start). */
function nextFreeId(file: string): number {
  let end = 100_000;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  for (const line of text.split('\n')) {
    const [, first, count] = line.split(':');
    if (first && count) end = Math.max(end, Number(first) + Number(count));
  }
  return end;
}

export function createTestUser(): TestUser {
  const name = `nimbus-t${randomBytes(3).toString('hex')}`;
  execFileSync('/usr/sbin/useradd', ['-m', '-s', '/usr/sbin/nologin', name], { stdio: 'pipe' });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  const owner = { name, id: uid };
  const read = (file: string) => (existsSync(file) ? subordinateRange(readFileSync(file, 'utf8'), owner) : undefined);
  if (!read('/etc/subuid') || !read('/etc/subgid')) {
    for (const file of ['/etc/subuid', '/etc/subgid']) if (!existsSync(file)) writeFileSync(file, '', { mode: 0o644 });
    const first = Math.max(nextFreeId('/etc/subuid'), nextFreeId('/etc/subgid'));
    const range = `${first}-${first + 65_535}`;
    execFileSync('/usr/sbin/usermod', ['--add-subuids', range, '--add-subgids', range, name], { stdio: 'pipe' });
  }
  const user = {
    name,
    uid,
    gid,
    home: `/home/${name}`,
    subuids: read('/etc/subuid')!,
    subgids: read('/etc/subgid')!,
    remove() {
      execFileSync('/usr/sbin/userdel', ['-r', name], { stdio: 'pipe' });
      rmSync(subuidClaimDir(uid), { recursive: true, force: true });
    },
  };
  if (!user.subuids || !user.subgids) {
    user.remove();
    throw new Error(`could not give ${name} subordinate ids`);
  }
  return user;
}

/** A folder of this test process, mode 0755 (or 0700 and the user's), removed with {@link dropFolders}. */
const folders: string[] = [];
export function folderFor(user: TestUser | undefined, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.push(dir);
  if (user) execFileSync('chown', [`${user.uid}:${user.gid}`, dir]);
  else chmodSync(dir, 0o755);
  return dir;
}
export function dropFolders(): void {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts `node <script relative to the repository> args...` as `user`, in a mount namespace of its
 * own (see the file's comment), with `hide` files replaced by /dev/null. stdio is piped.
 */
export function runAs(user: TestUser, script: string, args: string[], hide: string[] = []): ChildProcess {
  const view = folderFor(undefined, 'nimbus-view-');
  const tun = folderFor(undefined, 'nimbus-tun-');
  const setup = [
    'set -e',
    `mount --bind ${q(ROOT)} ${q(view)}`,
    `if [ -c /dev/net/tun ]; then mount -t tmpfs -o mode=755 nimbus-tun ${q(tun)}; mknod -m 666 ${q(tun)}/tun c 10 200; mount --bind ${q(tun)}/tun /dev/net/tun; fi`,
    ...hide.map((file) => `mount --bind /dev/null ${q(file)}`),
    // Not the test's working directory: under CI it is the clone in a mode-0700 folder, which the
    // user may not enter, and a child process started there (esbuild's service) would fail with EACCES.
    `cd ${q(view)}`,
    `exec setpriv --reuid=${user.uid} --regid=${user.gid} --init-groups -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=${q(user.home)} LANG=C.UTF-8 NO_COLOR=1 "$@"`,
  ].join('\n');
  return spawn('unshare', ['--mount', '--', 'sh', '-c', setup, 'sh', process.execPath, join(view, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Quotes a path for sh. */
function q(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
