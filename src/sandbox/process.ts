import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ignoreStdioErrors, type StdioPlan } from './descriptors.js';
import type { NetworkPolicy, Protection, Sandbox, SandboxedProcess, SandboxExit, SandboxSpec } from './types.js';

/**
 * The fallback where bubblewrap is unavailable: each instance is its own OS process with a clean
 * environment (nothing of the platform's environment leaks in), no inherited descriptors, and the
 * runtime's heap limit. It does not isolate the file system or the network, and says so.
 */
export class ProcessSandbox implements Sandbox {
  readonly name = 'process';
  /** Only the host's network: without namespaces, nothing else can be enforced. */
  readonly networkPolicies: readonly NetworkPolicy[] = ['host'];

  constructor(
    private readonly stdio: StdioPlan,
    /** Why the stronger sandbox is not in use, for the reports. */
    private readonly why = 'bubblewrap is not in use',
  ) {}

  async start(spec: SandboxSpec): Promise<SandboxedProcess> {
    // A function deployed elsewhere (or before this check) must not get the host's network silently.
    if (spec.network !== 'host') throw new Error(`network "${spec.network}" cannot be enforced by the process sandbox (${this.why}); redeploy with network "host" or install bubblewrap and pasta`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.socketDir,
      env: spec.env,
      // fd 3 is the control channel (ready message; EOF tells the instance the platform is gone).
      stdio: this.stdio.stdio(['ignore', 'pipe', 'pipe', 'pipe']),
    });
    ignoreStdioErrors(child);
    const exited = new Promise<SandboxExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal, outOfMemory: false }));
      // A spawn failure (e.g. missing interpreter) emits 'error' and never 'exit'.
      child.once('error', () => resolve({ code: child.exitCode ?? 127, signal: null, outOfMemory: false }));
    });
    return {
      pid: child.pid ?? -1,
      stdout: child.stdout!,
      stderr: child.stderr!,
      control: child.stdio[3] as Readable,
      exited,
      mountCode: async (hostDir) => hostDir,
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  }

  async close(): Promise<void> {
    this.stdio.close();
  }

  protections(): Protection[] {
    return [
      { name: 'separate process', active: true, detail: 'each instance is its own OS process' },
      { name: 'clean environment', active: true, detail: "the platform's environment variables are not passed on" },
      { name: 'memory limit', active: true, detail: 'runtime heap limit from --memory (not a hard limit)' },
      { name: 'unprivileged user', active: false, detail: `instances run as the platform's user (${this.why})` },
      { name: 'file system isolation', active: false, detail: `instances can read what the platform's user can (${this.why})` },
      { name: 'network policy', active: false, detail: `only --network host: outbound and none cannot be enforced (${this.why})` },
      { name: 'process limit', active: false, detail: this.why },
      { name: 'time limit', active: true, detail: 'the function timeout: the platform kills an instance that exceeds it' },
    ];
  }
}
