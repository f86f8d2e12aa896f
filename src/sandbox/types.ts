import type { Readable } from 'node:stream';
import type { NetworkPolicy } from '../core/spec.js';

export type { NetworkPolicy } from '../core/spec.js';

/** Resource limits of one instance. */
export interface ResourceLimits {
  /** Memory (MB) for everything the instance runs, including /tmp contents. */
  memoryMb: number;
  /** Processes and threads the instance may run at once (stops fork bombs). */
  maxProcesses: number;
  /** Open file descriptors per process. */
  maxOpenFiles: number;
  /** Size of the private /tmp (MB). */
  tmpMb: number;
}

/** What to start inside a sandbox. */
export interface SandboxSpec {
  /** Executable and arguments (e.g. node and the runtime shim). */
  command: string;
  args: string[];
  /** Host paths the runtime needs to read (its shim files, an interpreter outside /usr). */
  runtimePaths: string[];
  /** The complete environment of the instance: nothing of the platform's leaks in. */
  env: Record<string, string>;
  /** A private directory for the instance's unix socket; the only host directory it may write. */
  socketDir: string;
  network: NetworkPolicy;
  limits: ResourceLimits;
}

/** How a sandboxed process ended. */
export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The memory limit was hit and the kernel killed the instance (where the sandbox can tell). */
  outOfMemory: boolean;
}

/** A started instance process. */
export interface SandboxedProcess {
  /** Process id of the runtime (as seen by the platform). */
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The control channel (fd 3 in the instance): newline-delimited JSON messages. */
  readonly control: Readable;
  /** Resolves once the process has exited and its resources are released (never rejects). */
  readonly exited: Promise<SandboxExit>;
  /**
   * Makes a function's built code visible to the instance, read-only where the sandbox can, and
   * answers the path the instance must load it from. Called once, when the instance is specialised.
   */
  mountCode(hostDir: string): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

/** A protection a sandbox applies, for start-up reports and `nimbus doctor`. */
export interface Protection {
  name: string;
  active: boolean;
  detail: string;
}

/**
 * Starts isolated instances. Implementations: bubblewrap namespaces with cgroups and rlimits
 * (`BwrapSandbox`), and plain processes with a clean environment where that is unavailable
 * (`ProcessSandbox`). Both pass test/sandbox/sandbox-contract.ts.
 */
export interface Sandbox {
  readonly name: string;
  /** Network policies this sandbox can enforce; the others are refused at deploy. */
  readonly networkPolicies: readonly NetworkPolicy[];
  start(spec: SandboxSpec): Promise<SandboxedProcess>;
  /** What this sandbox enforces on this host, honestly: never a protection that is not in force. */
  protections(): Protection[];
  /** Releases what the sandbox holds (after every instance has exited). */
  close(): Promise<void>;
}
