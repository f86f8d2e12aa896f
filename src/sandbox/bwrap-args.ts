import type { NetworkPolicy } from './types.js';

/** Where things appear inside the sandbox. */
export const SANDBOX_CODE_DIR = '/code';
export const SANDBOX_TMP_DIR = '/tmp';
/** The instance's socket directory, wherever it is on the host. */
export const SANDBOX_SOCKET_DIR = '/run/nimbus';

/** Host files a runtime may need to read: name resolution and TLS roots for outbound calls. */
const HOST_FILES = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/ssl', '/etc/ca-certificates', '/etc/localtime'];

/** File descriptors (in bwrap) of the set-up handshake; see {@link bwrapArgs}. */
export const INFO_FD = 4;
export const BLOCK_FD = 5;
/** File descriptor (in bwrap) of the seccomp filter, when there is one (see seccomp.ts). */
export const SECCOMP_FD = 6;

/** Everything {@link bwrapArgs} needs. */
export interface BwrapPlan {
  /** Host directories made visible read-only at the same path (runtime, interpreter). */
  readOnly: string[];
  /** The instance's socket directory: writable, at {@link SANDBOX_SOCKET_DIR}. */
  socketDir: string;
  /** Host directory shown read-only at {@link SANDBOX_CODE_DIR}; filled at specialisation. */
  codeDir: string;
  network: NetworkPolicy;
  tmpBytes: number;
  /** uid and gid inside the sandbox. */
  uid: number;
  /** Executed inside, after the rlimit wrapper if any. */
  command: string[];
  /** A seccomp filter is passed on {@link SECCOMP_FD}. */
  seccomp?: boolean;
}

/**
 * The bubblewrap command line of one instance: new user, mount, PID, IPC, UTS, cgroup and network
 * namespaces (the host's network only with the `host` policy; `outbound` has pasta attach its own
 * namespace to the outside during the handshake), a read-only root with only /usr,
 * the runtime, the code, a few /etc files, a size-capped private /tmp, and the socket directory.
 * The command runs as PID 1 of its namespace, so killing it ends everything it started.
 *
 * Handshake: bwrap reports the sandboxed process id on {@link INFO_FD} and waits for a byte on
 * {@link BLOCK_FD} before running the command, so the platform can put it into its cgroup (and
 * connect its network) first.
 */
export function bwrapArgs(plan: BwrapPlan): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    ...(plan.network === 'host' ? ['--share-net'] : []),
    '--uid', String(plan.uid),
    '--gid', String(plan.uid),
    '--disable-userns',
    '--cap-drop', 'ALL',
    '--die-with-parent',
    '--new-session',
    '--as-pid-1',
    '--hostname', 'nimbus',
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/sbin', '/sbin',
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
  ];
  for (const file of HOST_FILES) args.push('--ro-bind-try', file, file);
  // The private /tmp first: a runtime installed under the host's /tmp is bound on top of it.
  args.push('--size', String(plan.tmpBytes), '--perms', '1777', '--tmpfs', SANDBOX_TMP_DIR);
  for (const dir of plan.readOnly) args.push('--ro-bind', dir, dir);
  args.push(
    '--proc', '/proc',
    '--dev', '/dev',
    '--bind', plan.socketDir, SANDBOX_SOCKET_DIR,
    '--ro-bind', plan.codeDir, SANDBOX_CODE_DIR,
    '--remount-ro', '/',
    '--chdir', SANDBOX_TMP_DIR,
    '--info-fd', String(INFO_FD),
    '--block-fd', String(BLOCK_FD),
    ...(plan.seccomp ? ['--seccomp', String(SECCOMP_FD)] : []),
    '--',
    ...plan.command,
  );
  return args;
}

/** `prlimit` options for the per-process limits cgroups do not cover (or stand in for them). */
export function rlimitArgs(prlimit: string, limits: { maxOpenFiles: number; maxProcesses: number }): string[] {
  return [
    prlimit,
    `--nofile=${limits.maxOpenFiles}:${limits.maxOpenFiles}`,
    `--nproc=${limits.maxProcesses}:${limits.maxProcesses}`,
    '--core=0:0',
    '--',
  ];
}
