import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RunDirOpener, type InstanceUser, type InstanceUsers, type StdioSlot } from './instance-users.js';
import { UidPool, type UidRange } from './uid-pool.js';

/**
 * A root platform: each instance's bubblewrap runs as a host uid of its own from a reserved range
 * (uid-pool.ts), which owns the instance's socket directory (0700) and code directory (0500): no
 * other instance, and no host process running as `nobody`, can connect to its socket, signal it or
 * read its memory through /proc. Root passes anyway, to link code in and remove them.
 */
export class HostUidUsers implements InstanceUsers {
  readonly description: string;
  private readonly pool: UidPool;
  private readonly runDirs = new RunDirOpener();

  constructor(range: UidRange, claimDir: string) {
    this.pool = new UidPool(range, claimDir);
    this.description = `a host uid of its own (from ${range.first}), shared with no other instance`;
  }

  async claim(socketDir: string, codeDir: string): Promise<InstanceUser> {
    const uid = this.pool.acquire();
    const release = async () => {
      await rm(codeDir, { recursive: true, force: true }).catch(() => undefined);
      // Only now: until every process of the instance is gone, its uid is still in use.
      this.pool.release(uid);
    };
    try {
      await this.runDirs.open(dirname(socketDir));
      await mkdir(codeDir, { mode: 0o500 });
      await chown(codeDir, uid, uid);
      await chown(socketDir, uid, uid);
      await chmod(socketDir, 0o700);
    } catch (err) {
      await release();
      throw err;
    }
    return {
      hostUid: uid,
      spawnPlan: (bwrap: string, args: string[], stdio: StdioSlot[]) => ({ file: bwrap, args, stdio, uid, gid: uid }),
      release,
    };
  }

  close(): void {
    // Claims are given back one by one as instances end.
  }
}

/** A platform that is not root, without subordinate uids: every instance runs as its user. */
export class SharedUser implements InstanceUsers {
  /** @param reason why instances cannot have uids of their own here, in a few words. */
  constructor(readonly reason: string) {}

  get description(): string {
    return `on the host every instance shares the platform's user: ${this.reason}`;
  }

  async claim(_socketDir: string, codeDir: string): Promise<InstanceUser> {
    await mkdir(codeDir, { mode: 0o755 });
    return {
      hostUid: undefined,
      spawnPlan: (bwrap: string, args: string[], stdio: StdioSlot[]) => ({ file: bwrap, args, stdio }),
      release: () => rm(codeDir, { recursive: true, force: true }).catch(() => undefined),
    };
  }

  close(): void {
    // Nothing held.
  }
}
