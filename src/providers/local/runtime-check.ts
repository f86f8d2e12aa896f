import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INSTANCE_LIMITS } from '../../core/spec.js';
import { stageRuntimes } from '../../runtime-adapters/staging.js';
import type { RuntimeAdapter } from '../../runtime-adapters/types.js';
import { blockedDirectoryOnPath } from '../../sandbox/reach.js';
import type { Sandbox } from '../../sandbox/types.js';
import { RuntimeProcess } from './runtime-process.js';

/** How long the check waits for the runtime to be ready. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * Starts one generic instance of `adapter`'s runtime in `sandbox`, exactly as the backend will
 * (shim files staged in a run directory, the real interpreter, the handshake), and stops it.
 * Answers undefined when it became ready, otherwise one sentence: what failed and, when the
 * sandbox user cannot reach the interpreter, which folder stops it and what to do.
 *
 * @param sandboxUid the host uid instances run as, when it differs from the platform's own.
 */
export async function checkRuntimeStarts(sandbox: Sandbox, adapter: RuntimeAdapter, sandboxUid?: number): Promise<string | undefined> {
  const runDir = await mkdtemp(join(tmpdir(), 'nimbus-check-'));
  try {
    const staged = stageRuntimes({ [adapter.name]: adapter }, join(runDir, 'runtimes'))[adapter.name]!;
    let command: string;
    try {
      command = staged.command({ memoryMb: 128 }).command;
    } catch (err) {
      return (err as Error).message;
    }
    const blocked = sandboxUid === undefined ? undefined : blockedDirectoryOnPath(command, sandboxUid, sandboxUid);
    if (blocked) {
      return (
        `the sandbox user (host uid ${sandboxUid}) cannot reach ${command}: ${blocked.dir} is mode ${blocked.mode.toString(8).padStart(4, '0')}. ` +
        `Install ${adapter.name} where every user can read it (e.g. under /usr/local), or let others pass through that folder (chmod o+x ${blocked.dir}).`
      );
    }
    const process = await RuntimeProcess.spawn(
      { sandbox, adapter: staged, logs: { append: () => undefined }, socketDir: join(runDir, 'check'), startTimeoutMs: CHECK_TIMEOUT_MS, stopGraceMs: 1000 },
      // Without networking: whether pasta works is its own check (user-mode networking), and must not decide the sandbox.
      { runtime: adapter.name, memoryMb: 128, network: sandbox.networkPolicies.includes('none') ? 'none' : 'host', limits: DEFAULT_INSTANCE_LIMITS },
    );
    await process.stop();
    return undefined;
  } catch (err) {
    return `a ${adapter.name} instance could not start: ${(err as Error).message}`;
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
