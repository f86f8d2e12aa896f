import { spawn } from 'node:child_process';
import { closeSync, lstatSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { RunDirOpener, type InstanceUser, type InstanceUsers, type StdioSlot } from './instance-users.js';
import { readSubordinateRange, SUBGID_FILE, SUBUID_FILE } from './subid-ranges.js';
import { NAMESPACE_FD, SUBUID_EXEC_SCRIPT, SUBUID_SYSCALLS } from './subuid-exec.js';
import { openUserNamespace, type SubordinateIds } from './subuid-namespace.js';
import { UidPool } from './uid-pool.js';

/**
 * The fewest subordinate ids worth using: room for one function at its largest (1,000 instances)
 * and the warm spares. useradd hands out 65,536.
 */
export const MIN_SUBORDINATE_IDS = 1024;
/** The most used (as many as a root platform reserves). */
const MAX_SUBORDINATE_IDS = 65_536;

/**
 * Claims of one user's subordinate uids, shared by every platform that user runs (so two never hand
 * out the same one): a fixed path, whatever TMPDIR says, on a file system cleared at boot.
 */
export function subuidClaimDir(uid: number): string {
  return `/tmp/nimbus-subuids-${uid}`;
}

/**
 * Finds what a platform that is not root needs to give each instance a uid and gid of its own:
 * newuidmap and newgidmap (Debian's `uidmap`), subordinate ranges of its user in /etc/subuid and
 * /etc/subgid of at least {@link MIN_SUBORDINATE_IDS}, and the programs of the steps. Answers the
 * ids, or why they cannot be used (a few words, with what to do).
 */
export function findSubordinateIds(find: (name: string) => string | undefined, files = { subuid: SUBUID_FILE, subgid: SUBGID_FILE }): { ids: SubordinateIds; problem?: undefined } | { ids?: undefined; problem: string } {
  if (!SUBUID_SYSCALLS) return { problem: `subordinate uids are not supported on ${process.arch}` };
  const newuidmap = find('newuidmap');
  const newgidmap = find('newgidmap');
  if (!newuidmap || !newgidmap) return { problem: 'newuidmap is not installed (Debian/Ubuntu: apt-get install uidmap)' };
  const tools = { unshare: find('unshare'), cat: find('cat'), perl: find('perl'), rm: find('rm') };
  const missing = Object.entries(tools).filter(([, path]) => !path).map(([name]) => name);
  if (missing.length > 0) return { problem: `${missing.join(', ')} not found (Debian/Ubuntu: apt-get install util-linux coreutils perl-base)` };
  const info = userInfo();
  const owner = { uid: info.uid, gid: process.getgid?.() ?? info.gid };
  const who = { name: info.username, id: info.uid };
  const uids = readSubordinateRange(files.subuid, who);
  const gids = readSubordinateRange(files.subgid, who);
  if (!uids || !gids) return { problem: `${info.username} has no subordinate ${uids ? 'gids' : 'uids'} in ${uids ? files.subgid : files.subuid} (sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${info.username})` };
  const count = Math.min(uids.count, gids.count, MAX_SUBORDINATE_IDS);
  if (count < MIN_SUBORDINATE_IDS) return { problem: `the subordinate ids of ${info.username} in ${files.subuid} and ${files.subgid} hold ${count}, fewer than the ${MIN_SUBORDINATE_IDS} instances may need` };
  return {
    ids: {
      uids: { first: uids.first, count },
      gids: { first: gids.first, count },
      owner,
      user: info.username,
      tools: { newuidmap, newgidmap, unshare: tools.unshare!, cat: tools.cat!, perl: tools.perl!, rm: tools.rm! },
    },
  };
}

/**
 * A platform that is not root, whose user has subordinate ids: each instance runs as a host uid
 * and gid of its own from them, shared with no other instance. They are mapped (as 1..N) into a
 * user namespace of the platform's user (subuid-namespace.ts); each start enters it, readies the
 * instance's directories and takes the instance's ids before running bubblewrap (subuid-exec.ts).
 *
 * The socket directory (0770) and code directory (0750) stay the platform's and belong to the
 * instance's own group: the platform links code in and connects, the instance creates its socket
 * and reads its code, and nobody else (`nobody`, other users, other instances) may enter either.
 * Claims (uid-pool.ts) are shared by the user's platforms through {@link subuidClaimDir}.
 */
export class SubordinateUsers implements InstanceUsers {
  readonly description: string;
  private readonly runDirs = new RunDirOpener();
  private readonly calls: string;

  private constructor(
    private readonly ids: SubordinateIds,
    private readonly pool: UidPool,
    private readonly namespace: number,
  ) {
    const { uids } = ids;
    this.calls = SUBUID_SYSCALLS!.join(',');
    this.description = `a host uid of its own from the subordinate uids of ${ids.user} (${uids.first} to ${uids.first + uids.count - 1}), shared with no other instance`;
  }

  /** Makes the platform's user namespace and joins the user's claims. */
  static async open(ids: SubordinateIds, claimDir: string = subuidClaimDir(ids.owner.uid)): Promise<SubordinateUsers> {
    const namespace = await openUserNamespace(ids);
    try {
      const pool = new UidPool(ids.uids, claimDir);
      const info = lstatSync(claimDir);
      // /tmp is everyone's: claims in a directory someone else made (or could write) mean nothing.
      if (!info.isDirectory() || info.uid !== ids.owner.uid || (info.mode & 0o077) !== 0) throw new Error(`${claimDir} is not a directory of ${ids.user} alone`);
      return new SubordinateUsers(ids, pool, namespace);
    } catch (err) {
      closeSync(namespace);
      throw err;
    }
  }

  async claim(socketDir: string, codeDir: string): Promise<InstanceUser> {
    const hostUid = this.pool.acquire();
    // Inside the namespace, the subordinate id at `index` is index + 1 (0 is the platform's user).
    const inside = String(hostUid - this.ids.uids.first + 1);
    try {
      await this.runDirs.open(dirname(socketDir));
      await mkdir(codeDir, { mode: 0o700 });
    } catch (err) {
      this.pool.release(hostUid);
      throw err;
    }
    return {
      hostUid,
      spawnPlan: (bwrap: string, args: string[], stdio: StdioSlot[]) => ({
        file: this.ids.tools.perl,
        args: ['-e', SUBUID_EXEC_SCRIPT, 'run', String(NAMESPACE_FD), this.calls, inside, inside, socketDir, codeDir, bwrap, ...args],
        stdio: this.withNamespace(stdio),
      }),
      release: async () => {
        await this.remove([socketDir, codeDir]);
        this.pool.release(hostUid);
      },
    };
  }

  close(): void {
    closeSync(this.namespace);
  }

  /** `stdio` with the namespace on {@link NAMESPACE_FD}. */
  private withNamespace(stdio: StdioSlot[]): StdioSlot[] {
    const slots = [...stdio];
    while (slots.length < NAMESPACE_FD) slots.push('ignore');
    slots[NAMESPACE_FD] = this.namespace;
    return slots;
  }

  /**
   * Removes an ended instance's directories. The platform can, unless the instance made a
   * subdirectory of its socket directory that only it may enter: root of the namespace can then.
   */
  private async remove(dirs: string[]): Promise<void> {
    const failed = (await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }).then(() => false, () => true)))).some(Boolean);
    if (!failed) return;
    const child = spawn(this.ids.tools.perl, ['-e', SUBUID_EXEC_SCRIPT, 'remove', String(NAMESPACE_FD), this.calls, this.ids.tools.rm, ...dirs], {
      env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      stdio: this.withNamespace(['ignore', 'ignore', 'ignore']),
    });
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
  }
}
