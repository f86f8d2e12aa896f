import { HostUidUsers, SharedUser } from './host-users.js';
import type { InstanceUserPlan, InstanceUsers } from './instance-users.js';
import { findSubordinateIds, SubordinateUsers } from './subuid-users.js';
import { DEFAULT_CLAIM_DIR, INSTANCE_UID_RANGE } from './uid-pool.js';

/**
 * Chooses who instances run as on this host: a root platform gives each a host uid of its own from
 * the reserved range; one that is not root gives each a subordinate uid of its user when it can
 * (uidmap installed, ranges in /etc/subuid and /etc/subgid), else they share its user, and the
 * plan says why.
 *
 * @param cgroupVersion the cgroups instances get, if any. On cgroup v1 a process that is not root
 * may move only processes of its own uid into a group (measured): a platform that is not root
 * could not put instances running as subordinate uids into theirs, so they share its user there.
 * @param files where the subordinate ranges are (tests).
 */
export function planInstanceUsers(
  find: (name: string) => string | undefined,
  isRoot: boolean = process.getuid?.() === 0,
  cgroupVersion?: 'v1' | 'v2',
  files?: { subuid: string; subgid: string },
): InstanceUserPlan {
  if (isRoot) return { kind: 'host', range: INSTANCE_UID_RANGE, claimDir: DEFAULT_CLAIM_DIR };
  const found = files ? findSubordinateIds(find, files) : findSubordinateIds(find);
  if (!found.ids) return { kind: 'shared', reason: found.problem };
  if (cgroupVersion === 'v1') return { kind: 'shared', reason: 'its cgroups are v1, where it could move no process of another uid into an instance\'s group (use cgroup v2, or run as root)' };
  return { kind: 'subordinate', ids: found.ids };
}

/**
 * Opens what `plan` needs (the namespace of subordinate uids). Where that fails, instances share
 * the platform's user, and its description says why: never a protection that is not in force.
 */
export async function openInstanceUsers(plan: InstanceUserPlan): Promise<InstanceUsers> {
  switch (plan.kind) {
    case 'host':
      return new HostUidUsers(plan.range, plan.claimDir);
    case 'shared':
      return new SharedUser(plan.reason);
    case 'subordinate':
      return SubordinateUsers.open(plan.ids).catch((err: Error) => new SharedUser(`its subordinate uids cannot be used: ${err.message}`));
  }
}
