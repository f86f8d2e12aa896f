import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { NETNS_EXEC_SCRIPT, PRCTL_SYSCALL } from './netns-exec.js';

/** Programs user-mode networking needs, found on the host (see {@link findUserNet}). */
export interface UserNetTools {
  pasta: string;
  /** Runs commands with the namespace descriptors (see netns-exec.ts). */
  perl: string;
  nsenter: string;
  ip: string;
  /**
   * Keep pasta as root when the platform is root. Left to itself, pasta started as root changes
   * to `nobody`, which may not enter the instance's user namespace (it belongs to the instance's
   * own uid), and which cannot open /dev/net/tun where that is root's only (as in many
   * containers). As root it still gives up every capability of the host's user namespace when it
   * joins the instance's.
   */
  runAsRoot: boolean;
}

/** The longest an instance's network may take to come up. */
const ATTACH_TIMEOUT_MS = 10_000;
const TUN = '/dev/net/tun';

/**
 * Finds pasta (Debian's `passt` package) and what attaching it needs; answers the tools, or why
 * user-mode networking cannot work here (one sentence, with what to install).
 */
export function findUserNet(find: (name: string) => string | undefined, isRoot: boolean): { tools: UserNetTools | undefined; problem: string | undefined } {
  const pasta = find('pasta');
  if (!pasta) return { tools: undefined, problem: 'pasta is not installed (Debian/Ubuntu: apt-get install passt)' };
  const missing = ['perl', 'nsenter', 'ip'].filter((name) => !find(name));
  if (missing.length > 0) return { tools: undefined, problem: `${missing.join(', ')} not found (Debian/Ubuntu: apt-get install perl-base util-linux iproute2)` };
  try {
    statSync(TUN);
    if (!isRoot) accessSync(TUN, constants.R_OK | constants.W_OK);
  } catch {
    return { tools: undefined, problem: `${TUN} is missing or not usable by this user (it needs the tun module, and mode 0666)` };
  }
  return { tools: { pasta, perl: find('perl')!, nsenter: find('nsenter')!, ip: find('ip')!, runAsRoot: isRoot }, problem: undefined };
}

/** The link of one instance's network namespace to the outside; {@link stop} it when the instance is gone. */
export interface UserNetLink {
  /** Ends pasta; resolves once it has exited and its pid file is gone. */
  stop(): Promise<void>;
}

/**
 * User-mode networking for instances in their own network namespace: pasta carries their
 * connections out through ordinary sockets of the host, so they reach what the host can reach,
 * except the host itself:
 * - no port forwarding in either direction (`-t none -u none -T none -U none`): a listener in the
 *   instance is invisible to the host, and the host's loopback is not mapped into the instance;
 * - the gateway address is the real gateway, not the host (`--no-map-gw`);
 * - the instance's loopback is its own;
 * - every address of the host (the one pasta copies is local inside already) gets an
 *   `unreachable` route in the namespace, so the host's listeners on 0.0.0.0 cannot be reached
 *   through its other addresses.
 */
export class UserNet {
  constructor(private readonly tools: UserNetTools) {}

  /**
   * Connects the network namespace of `pid` (held by bubblewrap's set-up handshake, so nothing
   * runs in it yet) and resolves once its interface, addresses and routes are in place. `pidFile`
   * is a path only the platform can write; pasta writes it when it is ready.
   */
  async attach(pid: number, pidFile: string): Promise<UserNetLink> {
    const pasta = this.startPasta(pid, pidFile);
    try {
      await Promise.all([this.blockHostAddresses(pid), pasta.ready]);
    } catch (err) {
      await pasta.stop();
      throw err;
    }
    return { stop: pasta.stop };
  }

  /** Runs `command` with the namespace descriptors of `pid`; `supervised`: ended with the platform (see netns-exec.ts). */
  private exec(pid: number, command: string[], supervised: boolean) {
    return spawn(this.tools.perl, ['-e', NETNS_EXEC_SCRIPT, String(supervised ? PRCTL_SYSCALL : 0), String(process.pid), String(pid), ...command], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
  }

  /** Adds an `unreachable` route in the namespace for every address of the host. */
  private async blockHostAddresses(pid: number): Promise<void> {
    const routes = hostAddresses().map((address) => `route add unreachable ${address}/${address.includes(':') ? 128 : 32}\n`);
    if (routes.length === 0) return;
    const { tools } = this;
    // nsenter becomes uid 0 of the owning user namespace, so ip keeps CAP_NET_ADMIN there across
    // its exec. Only the uid: taking gid 0 makes nsenter drop its groups first, which that namespace
    // refuses (bubblewrap denies setgroups in it) unless the platform is root outside.
    const child = this.exec(pid, [tools.nsenter, '--user={userns}', '--net={netns}', '--preserve-credentials', '--setuid', '0', '--', tools.ip, '-batch', '-'], false);
    const stderr = collect(child.stderr);
    child.stdin.on('error', () => undefined);
    child.stdin.end(routes.join(''));
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (exitCode) => resolve(exitCode));
      child.once('error', () => resolve(127));
    });
    if (code !== 0) throw new Error(`could not block the host's addresses in the instance's network: ${stderr().trim().slice(0, 300) || `exit code ${code}`}`);
  }

  private startPasta(pid: number, pidFile: string): { ready: Promise<void>; stop: () => Promise<void> } {
    const { tools } = this;
    const child = this.exec(pid, [
      tools.pasta,
      '--quiet',
      '--foreground',
      '-t', 'none', '-u', 'none', '-T', 'none', '-U', 'none',
      '--no-map-gw',
      '--config-net',
      '--pid', pidFile,
      ...(tools.runAsRoot ? ['--runas', '0'] : []),
      '--userns', '{userns}',
      '--netns', '{netns}',
    ], true);
    // Like every pipe to a process that may die at any moment: an error (EPIPE) with no listener
    // would be an uncaught exception that takes the platform down (see ignoreStdioErrors).
    child.stdin.on('error', () => undefined);
    child.stdin.end();
    const stderr = collect(child.stderr);
    let exited = false;
    const exit = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    }).then(async () => {
      exited = true;
      await rm(pidFile, { force: true });
    });
    const ready = (async () => {
      const deadline = Date.now() + ATTACH_TIMEOUT_MS;
      // pasta writes its pid file once the namespace is configured: poll for it (briefly).
      while (!pidFileWritten(pidFile)) {
        if (exited) throw new Error(`pasta could not connect the instance's network: ${stderr().replace(/.*syslog.*\n?/g, '').trim().slice(0, 300) || 'no output'}`);
        if (Date.now() > deadline) throw new Error("pasta did not connect the instance's network in time");
        await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 2))]);
      }
    })();
    const stop = async () => {
      // SIGTERM: the supervising script then SIGKILLs pasta (a SIGKILL here would orphan it).
      if (!exited) child.kill('SIGTERM');
      await exit;
    };
    return { ready, stop };
  }
}

function pidFileWritten(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

/** The host's own addresses other than loopback (which is the instance's own inside). */
export function hostAddresses(): string[] {
  const addresses = new Set<string>();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) if (!entry.internal) addresses.add(entry.address.replace(/%.*$/, ''));
  }
  return [...addresses];
}

/** Keeps what a stream prints (the first few kilobytes), for error messages. */
function collect(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    if (text.length < 4096) text += chunk.toString('utf8');
  });
  stream.on('error', () => undefined);
  return () => text;
}
