import { chmod } from 'node:fs/promises';
import type { UidRange } from './uid-pool.js';
import type { SubordinateIds } from './subuid-namespace.js';

/** A descriptor slot of a child process, as `child_process.spawn` takes it. */
export type StdioSlot = 'pipe' | 'ignore' | number;

/** How to start one instance's bubblewrap. */
export interface SpawnPlan {
  file: string;
  args: string[];
  stdio: StdioSlot[];
  /** Host uid and gid to start it as (only a root platform can). */
  uid?: number;
  gid?: number;
}

/** The host user of one instance, held from before its start until every process of it is gone. */
export interface InstanceUser {
  /** Host uid the instance runs as; undefined when every instance runs as the platform's user. */
  readonly hostUid: number | undefined;
  /** How to run bubblewrap (`bwrap`, `args`, its descriptors `stdio`) as this user. */
  spawnPlan(bwrap: string, args: string[], stdio: StdioSlot[]): SpawnPlan;
  /** Removes the instance's code directory (and, where only this can, its socket directory), then gives its uid back. Never rejects. */
  release(): Promise<void>;
}

/**
 * Who instances run as on the host. Three kinds: a root platform gives each a host uid of its own
 * from a reserved range (host-users.ts); a platform that is not root gives each one of its user's
 * subordinate uids (subuid-users.ts); otherwise every instance runs as the platform's user.
 */
export interface InstanceUsers {
  /** What instances run as, in one sentence for `nimbus up` and `nimbus doctor`. */
  readonly description: string;
  /**
   * Claims a user for a new instance whose socket directory (made by the caller, 0700) and code
   * directory (made here, empty) are given; readies both for it. Throws when no uid is left.
   */
  claim(socketDir: string, codeDir: string): Promise<InstanceUser>;
  /** Releases what the users hold (after every instance has exited). */
  close(): void;
}

/** What {@link planInstanceUsers} chose, before anything is opened. */
export type InstanceUserPlan =
  | { kind: 'host'; range: UidRange; claimDir: string }
  | { kind: 'subordinate'; ids: SubordinateIds }
  | { kind: 'shared'; reason: string };

/** The host range instances take their uids from; undefined when they share the platform's. */
export function hostRangeOf(plan: InstanceUserPlan): UidRange | undefined {
  if (plan.kind === 'host') return plan.range;
  if (plan.kind === 'subordinate') return plan.ids.uids;
  return undefined;
}

/**
 * Lets instance uids pass through the platform's run directory (0711) to their own directories,
 * once per run directory. A run directory is the platform's, 0700 when made (run-dir.ts).
 */
export class RunDirOpener {
  private readonly opened = new Set<string>();

  async open(runDir: string): Promise<void> {
    if (this.opened.has(runDir)) return;
    await chmod(runDir, 0o711);
    this.opened.add(runDir);
  }
}
