import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';

const O_CLOEXEC = 0o2000000;

/**
 * Descriptors of this process (above stderr) that a child would inherit: ones opened without
 * close-on-exec, which can only have come from whoever started the platform (node opens its own
 * with close-on-exec). An instance must not get them: one could be a pipe or socket of the host.
 */
export function inheritableDescriptors(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fdinfo');
  } catch {
    return []; // not Linux: nothing to inspect
  }
  const found: number[] = [];
  for (const entry of entries) {
    const fd = Number(entry);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (flags && (parseInt(flags[1]!, 8) & O_CLOEXEC) === 0) found.push(fd);
    } catch {
      // closed in the meantime (e.g. the descriptor of the readdir itself)
    }
  }
  return found;
}

/**
 * Builds the `stdio` array of a child process: `fixed` for the first slots, and /dev/null
 * over every inherited descriptor, so the child sees none of them.
 */
export class StdioPlan {
  private readonly devNull: number | undefined;
  private readonly masked: number[];

  constructor(masked: number[] = inheritableDescriptors()) {
    this.masked = masked;
    this.devNull = masked.length > 0 ? openSync('/dev/null', 'r') : undefined;
  }

  stdio(fixed: Array<'pipe' | 'ignore' | number>): Array<'pipe' | 'ignore' | number> {
    const stdio = [...fixed];
    for (const fd of this.masked) {
      if (fd < fixed.length) continue;
      while (stdio.length < fd) stdio.push('ignore');
      stdio[fd] = this.devNull!;
    }
    return stdio;
  }

  /** Descriptors that are masked (for diagnostics). */
  get maskedDescriptors(): readonly number[] {
    return this.masked;
  }

  close(): void {
    if (this.devNull !== undefined) closeSync(this.devNull);
  }
}

/**
 * Gives every stdio stream of `child` an error listener. The streams are socket pairs to a
 * process that may die at any moment (a failed start, a crash, a kill): reads then fail with
 * ECONNRESET and writes with EPIPE. Without a listener such an error is thrown as an uncaught
 * exception and takes the whole platform down; the process's exit already says what happened.
 */
export function ignoreStdioErrors(child: ChildProcess): void {
  for (const stream of child.stdio) stream?.on('error', ignoreError);
}

function ignoreError(): void {
  // See ignoreStdioErrors: the exit of the process is the report.
}
