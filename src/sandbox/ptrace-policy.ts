import { readFileSync } from 'node:fs';
import { ptraceFilter } from './seccomp.js';

/** What keeps an instance from tracing (and so stopping or reading) processes, on this host. */
export interface PtraceReport {
  /** True when a process in an instance cannot attach to its own runtime (PID 1 of the sandbox). */
  blockedInsideInstance: boolean;
  /** Yama's `kernel.yama.ptrace_scope` (0-3), or undefined when the kernel has no Yama. */
  yamaScope: number | undefined;
  /** What is enforced, in words, for `nimbus doctor`. */
  enforced: string[];
  /** What is not, in words. */
  notEnforced: string[];
}

const YAMA_SCOPE_FILE = '/proc/sys/kernel/yama/ptrace_scope';

/**
 * Reports what limits ptrace for instances here (`sandboxed`: the bubblewrap sandbox is in use).
 * Always in force with bubblewrap: each instance
 * has its own PID namespace and no capabilities (no CAP_SYS_PTRACE), so it can only reach its
 * own processes, and the invocation deadline recycles an instance that is stopped (state `T`)
 * even when its client left. On x86_64 bubblewrap also loads a seccomp filter that refuses the
 * ptrace system call (seccomp.ts); elsewhere tracing its own runtime (PID 1, an ancestor) is
 * refused only by Yama scope 1 or more.
 */
export function ptraceReport(sandboxed: boolean, readScope: () => string | undefined = readYamaScope, filtered: boolean = ptraceFilter() !== undefined): PtraceReport {
  const text = readScope();
  const scope = text === undefined ? undefined : Number(text.trim());
  const yamaScope = scope !== undefined && Number.isInteger(scope) ? scope : undefined;
  const seccomp = sandboxed && filtered;
  const blocked = seccomp || (yamaScope !== undefined && yamaScope >= 1);
  const enforced = ['an instance stopped by ptrace is recycled at its deadline, whether or not the client still waits'];
  const notEnforced: string[] = [];
  if (sandboxed) enforced.unshift('an instance sees and can trace only its own processes (own PID namespace, no capabilities): never the platform nor another instance');
  else notEnforced.push("the process sandbox has no PID namespace: an instance can trace any process of the platform's user, the platform included");
  if (seccomp) enforced.push('a seccomp filter refuses the ptrace system call in every instance (EPERM)');
  if (yamaScope !== undefined && yamaScope >= 1) enforced.push(`Yama ptrace_scope ${yamaScope}: a process cannot attach to its own runtime (PID 1), only to its descendants or not at all`);
  if (!blocked) {
    notEnforced.push(`${yamaScope === undefined ? 'this kernel has no Yama' : `Yama ptrace_scope is ${yamaScope}`}: a process of an instance can attach to the instance's own runtime and stop it until the deadline (sysctl kernel.yama.ptrace_scope=1 where Yama exists)`);
  }
  // Reading a runtime's memory (/proc/<pid>/mem, process_vm_readv) is a ptrace access check too.
  enforced.push('python runtimes are not dumpable (PR_SET_DUMPABLE 0): no other process of their uid can read their memory or attach to them');
  notEnforced.push(
    sandboxed
      ? "node and exec runtimes stay dumpable (Node.js has no prctl, and an execute-only binary no longer makes a process undumpable on current kernels): processes the function starts in its own instance can read the runtime's memory; outside the instance only the platform's user can"
      : "node and exec runtimes stay dumpable (Node.js has no prctl): any process of the platform's user can read their memory",
  );
  if (!seccomp) notEnforced.push(sandboxed ? 'no seccomp filter blocks the ptrace system call (the filter is built for x86_64 only)' : 'no seccomp filter blocks the ptrace system call (it comes with the bubblewrap sandbox)');
  return { blockedInsideInstance: blocked, yamaScope, enforced, notEnforced };
}

function readYamaScope(): string | undefined {
  try {
    return readFileSync(YAMA_SCOPE_FILE, 'utf8');
  } catch {
    return undefined;
  }
}
