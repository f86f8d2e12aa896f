import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { BwrapSandbox, SANDBOX_UID } from './bwrap.js';
import { detectCgroups, removeStaleGroups, type CgroupDriver } from './cgroups.js';
import { StdioPlan } from './descriptors.js';
import { processAlive } from './process-alive.js';
import { ProcessSandbox } from './process.js';
import type { Sandbox } from './types.js';
import { INSTANCE_UID_RANGE, UidPool, type UidRange } from './uid-pool.js';
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
  /** Host uids instances run as (one each), when the platform runs as root; undefined otherwise. */
  instanceUids: UidRange | undefined;
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

/** Runs a trivial sandbox with every namespace, as the instances will get it; answers the problem, if any. */
function tryBwrap(bwrap: string, hostUid: number | undefined): string | undefined {
  const args = ['--unshare-all', '--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--disable-userns', '--cap-drop', 'ALL', '--die-with-parent', '--as-pid-1', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--remount-ro', '/', '--', '/usr/bin/true'];
  const result = spawnSync(bwrap, args, { env: {}, timeout: 10_000, encoding: 'utf8', ...(hostUid !== undefined ? { uid: hostUid, gid: hostUid } : {}) });
  if (result.error) return result.error.message;
  if (result.status !== 0) return (result.stderr || `exit code ${result.status}`).trim().slice(0, 300);
  return undefined;
}

/** Checks bubblewrap, user namespaces, cgroups and rlimits on this host. */
export async function probeHost(): Promise<HostProbe> {
  const checks: HostCheck[] = [];
  const instanceUids = process.getuid?.() === 0 ? INSTANCE_UID_RANGE : undefined;
  // Checked as an instance will run: as a uid of the range (all of them are "others" on the host).
  const hostUid = instanceUids?.first;
  const bwrap = findExecutable('bwrap');
  let bwrapProblem: string | undefined;
  if (!bwrap) {
    bwrapProblem = 'bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)';
  } else {
    const problem = tryBwrap(bwrap, hostUid);
    if (problem) bwrapProblem = `bwrap cannot create namespaces here: ${problem}`;
  }
  checks.push({ name: 'bubblewrap', ok: !bwrapProblem, detail: bwrapProblem ?? `${bwrap} starts sandboxes with user, mount, PID, IPC, UTS, network and cgroup namespaces` });
  checks.push({
    name: 'unprivileged user',
    ok: true,
    detail: instanceUids
      ? `the platform runs as root: each instance runs as a host uid of its own, from ${instanceUids.first} (${instanceUids.count} in all)`
      : `instances run as uid ${SANDBOX_UID} in a user namespace, mapped to the platform's user; they share that user on the host (run as root for a uid per instance)`,
  });

  const group = `${CGROUP_PREFIX}${process.pid}`;
  const { driver, reason } = await detectCgroups(group);
  if (driver) {
    // Groups of platform processes that died without cleaning up (kill -9) go first.
    const parents = driver.bases.map((dir) => dirname(dir));
    await removeStaleGroups(parents, CGROUP_PREFIX, processAlive);
  }
  checks.push({ name: 'cgroups', ok: driver !== undefined, detail: driver ? `${reason}: memory and process limits` : `unavailable: ${reason}` });

  const prlimit = findExecutable('prlimit');
  checks.push({ name: 'rlimits', ok: prlimit !== undefined, detail: prlimit ? `${prlimit}: open files, processes, no core dumps` : 'prlimit(1) not found (util-linux)' });

  const userNet = findUserNet(findExecutable, process.getuid?.() === 0);
  checks.push({
    name: 'user-mode networking',
    ok: userNet.tools !== undefined,
    detail: userNet.problem ?? `${userNet.tools!.pasta} gives each outbound instance its own network, without the host's loopback or listening ports`,
  });
  return { checks, bwrap, bwrapProblem, prlimit, cgroups: driver, instanceUids, userNet: userNet.tools, userNetProblem: userNet.problem };
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
    const sandbox = new BwrapSandbox({ bwrap: probe.bwrap, prlimit: probe.prlimit, cgroups: probe.cgroups, uids: probe.instanceUids ? new UidPool(probe.instanceUids) : undefined, stdio: new StdioPlan(), ...userNetOf(probe) });
    const problem = verify ? await verify(sandbox, probe) : undefined;
    probe.checks.push({ name: 'sandboxed runtime', ok: !problem, detail: problem ?? (verify ? 'a node instance starts in the bubblewrap sandbox' : 'not checked') });
    if (!problem) return { sandbox, probe };
    await sandbox.close();
    probe.bwrapProblem = problem;
  }
  if (mode === 'bubblewrap') throw new SandboxUnavailableError(`The bubblewrap sandbox was asked for, but ${probe.bwrapProblem}.`);
  return { sandbox: new ProcessSandbox(new StdioPlan(), mode === 'process' ? 'the process sandbox was chosen' : (probe.bwrapProblem ?? 'bubblewrap is not in use')), probe };
}
