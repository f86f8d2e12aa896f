import { checkRuntimeStarts } from './providers/local/runtime-check.js';
import { runtimeAdapters } from './runtime-adapters/index.js';
import { createSandbox, type HostCheck } from './sandbox/probe.js';
import { ptraceReport, type PtraceReport } from './sandbox/ptrace-policy.js';
import type { Protection } from './sandbox/types.js';

/** What `nimbus doctor` reports: the sandbox `nimbus up` would choose here, and why. */
export interface HostReport {
  sandbox: string;
  /** Host checks, then one per runtime started in the chosen sandbox. */
  checks: HostCheck[];
  protections: Protection[];
  ptrace: PtraceReport;
}

/**
 * Checks this machine the way start-up does (the same sandbox choice, a real node instance in it),
 * then starts one instance of every other runtime in the chosen sandbox. Nothing is left running.
 * Composition-root code, like src/server.ts: it picks the implementations, so `nimbus doctor`
 * loads this one module instead of the platform's parts.
 */
export async function inspectHost(): Promise<HostReport> {
  const { sandbox, probe } = await createSandbox('auto', (candidate, host) => checkRuntimeStarts(candidate, runtimeAdapters.node, host.instanceUids?.first));
  for (const adapter of Object.values(runtimeAdapters)) {
    // Node was started in bubblewrap to choose the sandbox already (the "sandboxed runtime" check).
    if (adapter.name === 'node' && sandbox.name === 'bubblewrap') continue;
    const problem = await checkRuntimeStarts(sandbox, adapter, sandbox.name === 'bubblewrap' ? probe.instanceUids?.first : undefined);
    probe.checks.push({ name: `${adapter.name} runtime`, ok: !problem, detail: problem ?? `an instance starts in the ${sandbox.name} sandbox` });
  }
  const protections = sandbox.protections();
  await sandbox.close();
  return { sandbox: sandbox.name, checks: probe.checks, protections, ptrace: ptraceReport(sandbox.name === 'bubblewrap') };
}
