import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { BwrapSandbox, SANDBOX_UID } from './bwrap.js';
import { detectCgroups, removeStaleGroups, type CgroupDriver } from './cgroups.js';
import { StdioPlan } from './descriptors.js';
import { SharedUser } from './host-users.js';
import { hostRangeOf, type InstanceUser, type InstanceUserPlan } from './instance-users.js';
import { processAlive } from './process-alive.js';
import { ProcessSandbox } from './process.js';
import type { Sandbox } from './types.js';
import type { UidRange } from './uid-pool.js';
import { openInstanceUsers, planInstanceUsers } from './user-plan.js';
import { findUserNet, UserNet, type UserNetTools } from './user-net.js';
import type { SandboxMode } from './modes.js';

export { SANDBOX_MODES, type SandboxMode } from './modes.js';

/** One thing checked on the host, for start-up reports and `nimbus doctor`. */
export interface HostCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the host offers for isolation. */
export interface HostProbe {
  checks: HostCheck[];
  bwrap: string | undefined;
  /** Why bubblewrap cannot be used; undefined when it can. */
  bwrapProblem: string | undefined;
  prlimit: string | undefined;
  cgroups: CgroupDriver | undefined;
  /** Host uids instances run as (one each): reserved as root, subordinate otherwise; undefined when they share the platform's. */
  instanceUids: UidRange | undefined;
  /** Who instances run as (opened by the sandbox with `openInstanceUsers`). */
  instanceUsers: InstanceUserPlan;
  /** pasta and its helpers, for the `outbound` network; undefined when missing. */
  userNet: UserNetTools | undefined;
  /** Why `outbound` cannot be offered; undefined when it can. */
  userNetProblem: string | undefined;
}

/** Prefix of the cgroup directory of one platform process (`nimbus-<pid>`). */
export const CGROUP_PREFIX = 'nimbus-';

function findExecutable(name: string): string | undefined {
  const dirs = ['/usr/bin', '/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(delimiter)];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Runs a trivial sandbox with every namespace, as an instance of `plan` will run (as its user, with
 * its socket and code directories); answers the problem, if any, and the plan in force: subordinate
 * uids that cannot be opened turn into a shared user.
 */
async function tryBwrap(bwrap: string, plan: InstanceUserPlan): Promise<{ problem: string | undefined; plan: InstanceUserPlan }> {
  const users = await openInstanceUsers(plan);
  if (users instanceof SharedUser && plan.kind !== 'shared') plan = { kind: 'shared', reason: users.reason };
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-probe-'));
  const socketDir = join(dir, 'probe');
  let user: InstanceUser | undefined;
  try {
    await mkdir(socketDir, { mode: 0o700 });
    user = await users.claim(socketDir, `${socketDir}.code`);
    const args = ['--unshare-all', '--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--disable-userns', '--cap-drop', 'ALL', '--die-with-parent', '--as-pid-1', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--bind', socketDir, '/run/nimbus', '--ro-bind', `${socketDir}.code`, '/code', '--remount-ro', '/', '--', '/usr/bin/true'];
    const spawned = user.spawnPlan(bwrap, args, ['ignore', 'ignore', 'pipe']);
    const result = spawnSync(spawned.file, spawned.args, { env: {}, timeout: 10_000, encoding: 'utf8', stdio: spawned.stdio, ...(spawned.uid !== undefined ? { uid: spawned.uid, gid: spawned.gid ?? spawned.uid } : {}) });
    if (result.error) return { problem: result.error.message, plan };
    if (result.status !== 0) return { problem: (result.stderr || `exit code ${result.status}`).trim().slice(0, 300), plan };
    return { problem: undefined, plan };
  } catch (err) {
    return { problem: (err as Error).message, plan };
  } finally {
    await user?.release();
    users.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Checks bubblewrap, user namespaces, cgroups and rlimits on this host. */
export async function probeHost(): Promise<HostProbe> {
  const checks: HostCheck[] = [];
  const group = `${CGROUP_PREFIX}${process.pid}`;
  const { driver, reason } = await detectCgroups(group);
  if (driver) {
    // Groups of platform processes that died without cleaning up (kill -9) go first.
    const parents = driver.bases.map((dir) => dirname(dir));
    await removeStaleGroups(parents, CGROUP_PREFIX, processAlive);
  }
  let users = planInstanceUsers(findExecutable, process.getuid?.() === 0, driver?.version);
  const bwrap = findExecutable('bwrap');
  let bwrapProblem: string | undefined;
  if (!bwrap) {
    bwrapProblem = 'bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)';
  } else {
    // Checked as an instance will run: as a uid of the range (all of them are "others" on the host).
    let tried = await tryBwrap(bwrap, users);
    if (tried.problem && tried.plan.kind === 'subordinate') {
      // Subordinate uids this host will not run bubblewrap as: instances share the platform's user, if that works.
      const shared = await tryBwrap(bwrap, { kind: 'shared', reason: `bubblewrap cannot start as a subordinate uid: ${tried.problem}` });
      if (!shared.problem) tried = shared;
    }
    users = tried.plan;
    if (tried.problem) bwrapProblem = `bwrap cannot create namespaces here: ${tried.problem}`;
  }
  checks.push({ name: 'bubblewrap', ok: !bwrapProblem, detail: bwrapProblem ?? `${bwrap} starts sandboxes with user, mount, PID, IPC, UTS, network and cgroup namespaces` });
  checks.push(userCheck(users));
  checks.push({ name: 'cgroups', ok: driver !== undefined, detail: driver ? `${reason}: memory and process limits` : `unavailable: ${reason}` });

  const prlimit = findExecutable('prlimit');
  checks.push({ name: 'rlimits', ok: prlimit !== undefined, detail: prlimit ? `${prlimit}: open files, processes, no core dumps` : 'prlimit(1) not found (util-linux)' });

  const userNet = findUserNet(findExecutable, process.getuid?.() === 0);
  checks.push({
    name: 'user-mode networking',
    ok: userNet.tools !== undefined,
    detail: userNet.problem ?? `${userNet.tools!.pasta} gives each outbound instance its own network, without the host's loopback or listening ports`,
  });
  return { checks, bwrap, bwrapProblem, prlimit, cgroups: driver, instanceUids: hostRangeOf(users), instanceUsers: users, userNet: userNet.tools, userNetProblem: userNet.problem };
}

/** The "unprivileged user" check: who instances run as on the host, and when they share a uid, why. */
function userCheck(plan: InstanceUserPlan): HostCheck {
  const name = 'unprivileged user';
  switch (plan.kind) {
    case 'host':
      return { name, ok: true, detail: `the platform runs as root: each instance runs as a host uid of its own, from ${plan.range.first} (${plan.range.count} in all)` };
    case 'subordinate': {
      const { uids, gids, user } = plan.ids;
      return { name, ok: true, detail: `each instance runs as a host uid and gid of its own, from the subordinate ids of ${user} (uids ${uids.first}, gids ${gids.first}, ${uids.count} of each)` };
    }
    case 'shared':
      return { name, ok: false, detail: `instances run as uid ${SANDBOX_UID} in a user namespace, mapped to the platform's user, and share that user on the host: ${plan.reason}` };
  }
}

/** The bubblewrap sandbox's user-mode networking options from what the probe found. */
function userNetOf(probe: HostProbe): { userNet: UserNet | undefined; userNetProblem: string | undefined } {
  return { userNet: probe.userNet ? new UserNet(probe.userNet) : undefined, userNetProblem: probe.userNetProblem };
}

/** The sandbox asked for cannot run on this host. */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

/**
 * Answers why instances cannot run in `sandbox` (one sentence), or undefined when they can. The
 * composition root passes one that starts a real runtime: bubblewrap working with `/usr/bin/true`
 * does not mean it can reach the interpreter and the shim.
 */
export type SandboxVerifier = (sandbox: Sandbox, probe: HostProbe) => Promise<string | undefined>;

/**
 * Picks the sandbox for `mode` on this host. `auto` takes bubblewrap when it works (and `verify`
 * finds nothing wrong) and falls back to plain processes otherwise; an explicit mode that cannot
 * work is an error.
 */
export async function createSandbox(mode: SandboxMode, verify?: SandboxVerifier): Promise<{ sandbox: Sandbox; probe: HostProbe }> {
  const probe = await probeHost();
  if (mode !== 'process' && probe.bwrap && !probe.bwrapProblem) {
    const sandbox = new BwrapSandbox({ bwrap: probe.bwrap, prlimit: probe.prlimit, cgroups: probe.cgroups, users: await openInstanceUsers(probe.instanceUsers), stdio: new StdioPlan(), ...userNetOf(probe) });
    const problem = verify ? await verify(sandbox, probe) : undefined;
    probe.checks.push({ name: 'sandboxed runtime', ok: !problem, detail: problem ?? (verify ? 'a node instance starts in the bubblewrap sandbox' : 'not checked') });
    if (!problem) return { sandbox, probe };
    await sandbox.close();
    probe.bwrapProblem = problem;
  }
  if (mode === 'bubblewrap') throw new SandboxUnavailableError(`The bubblewrap sandbox was asked for, but ${probe.bwrapProblem}.`);
  return { sandbox: new ProcessSandbox(new StdioPlan(), mode === 'process' ? 'the process sandbox was chosen' : (probe.bwrapProblem ?? 'bubblewrap is not in use')), probe };
}
