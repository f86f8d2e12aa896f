import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Protection, Sandbox, SandboxedProcess, SandboxSpec } from './types.js';

/**
 * The baseline sandbox: each instance is its own OS process with a clean environment (nothing of
 * the platform's environment leaks in) and the runtime's heap limit. It does not isolate the file
 * system or the network; bubblewrap and cgroups come with the isolation tier.
 */
export class ProcessSandbox implements Sandbox {
  readonly name = 'process';

  start(spec: SandboxSpec): SandboxedProcess {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      // fd 3 is the control channel (ready message; EOF tells the instance the platform is gone).
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // A spawn failure (e.g. missing interpreter) emits 'error' and never 'exit'.
      child.once('error', () => resolve({ code: child.exitCode ?? 127, signal: null }));
    });
    const control = child.stdio[3] as Readable;
    return {
      pid: child.pid ?? -1,
      stdout: child.stdout!,
      stderr: child.stderr!,
      control,
      exited,
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  }

  protections(): Protection[] {
    return [
      { name: 'separate process', active: true, detail: 'each instance is its own OS process' },
      { name: 'clean environment', active: true, detail: "the platform's environment variables are not passed on" },
      { name: 'memory limit', active: true, detail: 'runtime heap limit from --memory (not a hard limit)' },
      { name: 'file system isolation', active: false, detail: 'not in this sandbox: instances can read what the platform user can' },
      { name: 'network policy', active: false, detail: 'not in this sandbox' },
    ];
  }
}
