import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { mirrorInto } from '../packages/mirror.js';
import { BLOCK_FD, bwrapArgs, INFO_FD, rlimitArgs, SANDBOX_CODE_DIR, SANDBOX_SOCKET_DIR, SANDBOX_TMP_DIR } from './bwrap-args.js';
import { removeBases, type CgroupDriver, type InstanceCgroup } from './cgroups.js';
import { ignoreStdioErrors, type StdioPlan } from './descriptors.js';
import { ptraceFilter } from './seccomp.js';
import type { InstanceUser, InstanceUsers } from './instance-users.js';
import type { NetworkPolicy, Protection, Sandbox, SandboxedProcess, SandboxExit, SandboxSpec } from './types.js';
import type { UserNet, UserNetLink } from './user-net.js';

/** The uid instances run as inside their user namespace. */
export const SANDBOX_UID = 65534;

/** What the host offers the bubblewrap sandbox (see probe.ts). */
export interface BwrapSandboxOptions {
  bwrap: string;
  /** prlimit(1), for open-file and process rlimits; undefined when missing. */
  prlimit: string | undefined;
  /** Per-instance cgroups; undefined when this host does not let us create them. */
  cgroups: CgroupDriver | undefined;
  /**
   * Who instances run as on the host (user-plan.ts): a uid of their own each (from a reserved range
   * as root, from the user's subordinate uids otherwise), so instances own nothing of the host and
   * cannot reach each other; or the platform's user. Closed with the sandbox.
   */
  users: InstanceUsers;
  stdio: StdioPlan;
  /** Connects `outbound` instances to the outside (pasta); undefined when this host lacks it: `outbound` is refused. */
  userNet?: UserNet | undefined;
  /** Why {@link userNet} is missing, for the reports. */
  userNetProblem?: string | undefined;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Instances in bubblewrap: own user, mount, PID, IPC, UTS, cgroup and network namespaces (the
 * host's network only with the `host` policy), a read-only view of /usr, the runtime and their
 * own code, a size-capped /tmp, cgroup memory and process limits, and rlimits.
 */
export class BwrapSandbox implements Sandbox {
  readonly name = 'bubblewrap';
  readonly networkPolicies: readonly NetworkPolicy[];

  /** The seccomp filter of every instance (ptrace refused); undefined where none is built. */
  private readonly seccomp = ptraceFilter();
  /** The filter's file per run directory, written once. */
  private readonly seccompFiles = new Map<string, Promise<string>>();

  constructor(private readonly options: BwrapSandboxOptions) {
    this.networkPolicies = options.userNet ? ['outbound', 'none', 'host'] : ['none', 'host'];
  }

  async start(spec: SandboxSpec): Promise<SandboxedProcess> {
    const { options } = this;
    const { userNet } = options;
    if (spec.network === 'outbound' && !userNet) throw new Error(`network "outbound" needs user-mode networking, and ${options.userNetProblem ?? 'it is unavailable'}`);
    // The code directory sits next to the socket directory, never inside it: the socket
    // directory is writable from inside, the code must not be.
    const codeDir = `${spec.socketDir}.code`;
    const user: InstanceUser = await options.users.claim(spec.socketDir, codeDir);
    let cgroup: InstanceCgroup | undefined;
    let seccompFd: number | undefined;
    try {
      // bwrap reads the filter from its fd 6: a file of the run directory, opened for this start.
      if (this.seccomp) seccompFd = openSync(await this.seccompFile(dirname(spec.socketDir), this.seccomp), 'r');
      cgroup = await options.cgroups?.create(basename(spec.socketDir), { memoryMb: spec.limits.memoryMb, maxProcesses: spec.limits.maxProcesses }).catch((err: Error) => {
        throw new Error(`could not create the instance's cgroup: ${err.message}`);
      });
    } catch (err) {
      if (seccompFd !== undefined) closeSync(seccompFd);
      await user.release();
      throw err;
    }
    const rlimits = options.prlimit ? rlimitArgs(options.prlimit, spec.limits) : [];
    const args = bwrapArgs({
      readOnly: spec.runtimePaths,
      socketDir: spec.socketDir,
      codeDir,
      network: spec.network,
      tmpBytes: spec.limits.tmpMb * 1024 * 1024,
      uid: SANDBOX_UID,
      command: [...rlimits, spec.command, ...spec.args],
      seccomp: this.seccomp !== undefined,
    });

    // fd 3: control channel; 4 and 5: the set-up handshake (see bwrapArgs).
    const plan = user.spawnPlan(options.bwrap, args, ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', ...(seccompFd === undefined ? [] : [seccompFd])]);
    const child = spawn(plan.file, plan.args, {
      env: { ...insideEnv(spec), HOME: SANDBOX_TMP_DIR, TMPDIR: SANDBOX_TMP_DIR },
      stdio: options.stdio.stdio(plan.stdio),
      ...(plan.uid !== undefined ? { uid: plan.uid, gid: plan.gid ?? plan.uid } : {}),
    });
    if (seccompFd !== undefined) closeSync(seccompFd);
    ignoreStdioErrors(child);
    const exitOfBwrap = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: child.exitCode ?? 127, signal: null }));
    });
    let network: UserNetLink | undefined;
    const cleanUp = async (): Promise<boolean> => {
      await network?.stop();
      const outOfMemory = (await cgroup?.outOfMemory()) ?? false;
      await cgroup?.remove().catch(() => undefined);
      // Only now: until every process of the instance is gone, its uid is still in use.
      await user.release();
      return outOfMemory;
    };
    let pid: number;
    try {
      // The outbound network is connected while the handshake holds the instance: nothing runs before it is in place.
      const connect = spec.network === 'outbound' ? async (inside: number) => void (network = await userNet!.attach(inside, `${spec.socketDir}.pasta.pid`)) : undefined;
      pid = await handshake(child, cgroup, exitOfBwrap, connect);
    } catch (err) {
      // Its namespace child first: killed mid-setup, bwrap cannot take it along, and it would wait forever.
      if (child.pid !== undefined) killChildren(child.pid);
      child.kill('SIGKILL');
      await exitOfBwrap;
      await cleanUp();
      throw err;
    }
    const exited: Promise<SandboxExit> = exitOfBwrap.then(async (info) => ({ ...decodeExit(info), outOfMemory: await cleanUp() }));
    let done = false;
    void exited.then(() => (done = true));
    return {
      pid,
      stdout: child.stdout!,
      stderr: child.stderr!,
      control: child.stdio[3] as Readable,
      exited,
      async mountCode(hostDir: string) {
        await mirrorInto(hostDir, codeDir);
        return SANDBOX_CODE_DIR;
      },
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (done) return;
        try {
          // The runtime is PID 1 of its namespace: signalled directly, not through bwrap.
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      },
    };
  }

  /** Writes the filter into the run directory once; answers its path. */
  private seccompFile(runDir: string, filter: Buffer): Promise<string> {
    let file = this.seccompFiles.get(runDir);
    if (!file) {
      const path = join(runDir, 'seccomp.bpf');
      file = writeFile(path, filter, { mode: 0o600 }).then(() => path);
      this.seccompFiles.set(runDir, file);
    }
    return file;
  }

  async close(): Promise<void> {
    this.options.stdio.close();
    this.options.users.close();
    if (this.options.cgroups) await removeBases(this.options.cgroups);
  }

  protections(): Protection[] {
    const { cgroups, prlimit, users } = this.options;
    return [
      { name: 'unprivileged user', active: true, detail: `uid ${SANDBOX_UID} in its own user namespace, no capabilities; ${users.description}` },
      { name: 'namespaces', active: true, detail: 'own mount, PID, IPC, UTS and cgroup namespaces (bubblewrap)' },
      { name: 'file system isolation', active: true, detail: 'sees /usr, the runtime and its own code read-only, a private /tmp, nothing else of the host' },
      { name: 'clean environment', active: true, detail: "the platform's environment variables are not passed on" },
      { name: 'network policy', active: true, detail: networkDetail(this.options.userNetProblem) },
      { name: 'memory limit', active: cgroups !== undefined, detail: cgroups ? `cgroup ${cgroups.version} memory limit from --memory` : 'no cgroup could be created: only the runtime heap limit' },
      { name: 'process limit', active: cgroups !== undefined || prlimit !== undefined, detail: [cgroups ? `cgroup ${cgroups.version} pids limit` : '', prlimit ? 'RLIMIT_NPROC' : ''].filter(Boolean).join(' and ') || 'none' },
      { name: 'open files limit', active: prlimit !== undefined, detail: prlimit ? 'RLIMIT_NOFILE' : 'prlimit(1) not found' },
      { name: '/tmp size limit', active: true, detail: 'size-capped tmpfs' },
      { name: 'time limit', active: true, detail: 'the function timeout: the platform kills an instance that exceeds it' },
    ];
  }
}

/**
 * Reads the sandboxed process id, moves it into its cgroup, `connect`s its network (when given),
 * then lets it run. When bubblewrap gives up during set-up (a path it cannot bind, namespaces
 * refused), the error says what bubblewrap printed rather than what failed next on our side.
 */
async function handshake(child: ChildProcess, cgroup: InstanceCgroup | undefined, exit: Promise<unknown>, connect?: (pid: number) => Promise<void>): Promise<number> {
  const info = child.stdio[INFO_FD] as Readable;
  const block = (child.stdio as unknown as Writable[])[BLOCK_FD]!;
  const stderr: string[] = [];
  const onStderr = (chunk: Buffer) => void stderr.push(chunk.toString('utf8'));
  child.stderr!.on('data', onStderr);
  const bwrapFailure = async () => {
    // Let bwrap's own message arrive (it exits right after printing it), but never wait long.
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 500))]);
    return new Error(`bubblewrap failed: ${stderr.join('').trim().slice(0, 500) || 'no output'}`);
  };
  try {
    const pid = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error('bubblewrap did not start the instance in time')), HANDSHAKE_TIMEOUT_MS);
      const fail = () => {
        clearTimeout(timer);
        void bwrapFailure().then(reject);
      };
      const onInfo = (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const match = /"child-pid":\s*(\d+)[^}]*}/.exec(text);
        if (match) {
          clearTimeout(timer);
          info.off('data', onInfo).off('end', fail).off('error', fail);
          // Never close it early: bwrap would die of SIGPIPE writing the rest.
          info.resume();
          resolve(Number(match[1]));
        }
      };
      info.on('data', onInfo);
      info.once('end', fail);
      info.once('error', fail);
    });
    try {
      await cgroup?.addProcess(pid);
    } catch (err) {
      // ESRCH: the process is gone already, because bwrap failed after reporting it.
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw await bwrapFailure();
      throw err;
    }
    try {
      await connect?.(pid);
    } catch (err) {
      // The namespace vanished under pasta because bwrap failed after reporting the pid (e.g. a
      // runtime it cannot reach): bwrap's own message says why; pasta's would only say "gone".
      const failure = await bwrapFailure();
      throw child.exitCode !== null || child.signalCode !== null ? failure : err;
    }
    block.end('1');
    return pid;
  } finally {
    child.stderr!.off('data', onStderr);
    // Hold later output until the owner of the process reads it.
    child.stderr!.pause();
  }
}

/** What the network policies mean on this host, for the reports. */
function networkDetail(userNetProblem: string | undefined): string {
  const outbound = userNetProblem
    ? `outbound is refused: ${userNetProblem}`
    : "outbound (default) reaches the outside through its own network namespace (pasta), never the host's loopback, addresses or ports, and its listeners are invisible to the host";
  return `${outbound}; none leaves only loopback; host shares the host's network (explicit)`;
}

/** SIGKILLs the direct children of `pid` (from /proc; nothing when it cannot be read). */
function killChildren(pid: number): void {
  let children: string;
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return;
  }
  for (const child of children.split(' ').filter(Boolean)) {
    try {
      process.kill(Number(child), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The environment with host paths of the socket directory replaced by where the instance sees it. */
function insideEnv(spec: SandboxSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.env)) env[key] = value.startsWith(`${spec.socketDir}/`) ? SANDBOX_SOCKET_DIR + value.slice(spec.socketDir.length) : value;
  return env;
}

/** bwrap exits with 128+N when the runtime was killed by signal N; report it as that signal. */
function decodeExit(info: { code: number | null; signal: NodeJS.Signals | null }): { code: number | null; signal: NodeJS.Signals | null } {
  if (info.code !== null && info.code > 128 && info.code < 128 + 65) {
    const name = Object.entries(constants.signals).find(([, n]) => n === info.code! - 128)?.[0];
    if (name) return { code: null, signal: name as NodeJS.Signals };
  }
  return info;
}
