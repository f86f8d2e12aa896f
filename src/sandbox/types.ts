import type { Readable } from 'node:stream';

/** What to start inside a sandbox. */
export interface SandboxSpec {
  /** Executable and arguments (e.g. node and the runtime shim). */
  command: string;
  args: string[];
  /** The complete environment of the instance: nothing of the platform's leaks in. */
  env: Record<string, string>;
  /** Working directory (a private directory; the shim moves to the code when specialised). */
  cwd: string;
  /** A private directory for the instance's unix socket. */
  socketDir: string;
  /** Memory limit in MB. */
  memoryMb: number;
}

/** A started instance process. */
export interface SandboxedProcess {
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The control channel (fd 3 in the instance): newline-delimited JSON messages. */
  readonly control: Readable;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** A protection a sandbox applies, for start-up reports and `nimbus doctor`. */
export interface Protection {
  name: string;
  active: boolean;
  detail: string;
}

/**
 * Starts isolated instances. Implementations: plain processes with a clean environment and a heap
 * limit (`ProcessSandbox`); bubblewrap + cgroups come with the isolation work.
 */
export interface Sandbox {
  readonly name: string;
  start(spec: SandboxSpec): SandboxedProcess;
  /** What this sandbox enforces on this host, honestly. */
  protections(): Protection[];
}
