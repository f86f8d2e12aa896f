import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { CgroupDriver } from '../../src/sandbox/cgroups.js';
import { BwrapSandbox } from '../../src/sandbox/bwrap.js';
import { StdioPlan } from '../../src/sandbox/descriptors.js';
import { ProcessSandbox } from '../../src/sandbox/process.js';
import { probeHost } from '../../src/sandbox/probe.js';
import { openInstanceUsers } from '../../src/sandbox/user-plan.js';
import { waitFor } from '../integration/harness.js';
import { hostHas } from './host-needs.js';
import { sandboxContract } from './sandbox-contract.js';

describe('ProcessSandbox', () => {
  sandboxContract('process', async () => new ProcessSandbox(new StdioPlan()));
});

describe('BwrapSandbox', () => {
  sandboxContract('bubblewrap', async () => {
    const probe = await probeHost();
    if (probe.bwrapProblem) {
      if (process.env.CI) throw new Error(`bubblewrap must work under CI: ${probe.bwrapProblem}`);
      console.log(`# skipping the bubblewrap contract: ${probe.bwrapProblem}`);
      return undefined;
    }
    return new BwrapSandbox({ bwrap: probe.bwrap!, prlimit: probe.prlimit, cgroups: probe.cgroups, users: await openInstanceUsers(probe.instanceUsers), stdio: new StdioPlan() });
  });
});

describe('BwrapSandbox without pasta', () => {
  test('offers none and host but not outbound, and refuses to start outbound', async (t) => {
    const probe = await probeHost();
    if (probe.bwrapProblem) {
      if (process.env.CI) throw new Error(`bubblewrap must work under CI: ${probe.bwrapProblem}`);
      return t.skip(`bubblewrap is not usable here: ${probe.bwrapProblem}`);
    }
    const sandbox = new BwrapSandbox({ bwrap: probe.bwrap!, prlimit: probe.prlimit, cgroups: undefined, users: await openInstanceUsers(probe.instanceUsers), stdio: new StdioPlan(), userNetProblem: 'pasta is not installed' });
    try {
      assert.deepEqual([...sandbox.networkPolicies].sort(), ['host', 'none']);
      assert.match(sandbox.protections().find((p) => p.name === 'network policy')!.detail, /outbound is refused: pasta is not installed/);
      const spec = { command: '/usr/bin/true', args: [], runtimePaths: [], env: {}, socketDir: '/nonexistent', network: 'outbound' as const, limits: { memoryMb: 64, maxProcesses: 8, maxOpenFiles: 64, tmpMb: 1 } };
      await assert.rejects(sandbox.start(spec), /needs user-mode networking, and pasta is not installed/);
    } finally {
      await sandbox.close();
    }
  });
});

describe('BwrapSandbox failures', () => {
  test('a start that fails during set-up leaves no process behind', { timeout: 20_000 }, async (t) => {
    const probe = await probeHost();
    if (!hostHas(t, 'bubblewrap', probe.bwrapProblem)) return;
    // A cgroup that cannot take the process: the start fails after bwrap has made its namespaces.
    const failing: CgroupDriver = {
      version: 'v2',
      bases: [],
      create: async () => ({
        addProcess: async () => {
          throw new Error('no room in this cgroup');
        },
        outOfMemory: async () => false,
        remove: async () => undefined,
      }),
    };
    const sandbox = new BwrapSandbox({ bwrap: probe.bwrap!, prlimit: probe.prlimit, cgroups: failing, users: await openInstanceUsers(probe.instanceUsers), stdio: new StdioPlan() });
    const work = await mkdtemp(join(tmpdir(), 'nimbus-sandbox-fail-'));
    const socketDir = join(work, 'p-fail');
    await mkdir(socketDir, { mode: 0o700 });
    try {
      await assert.rejects(
        sandbox.start({
          command: '/usr/bin/sleep',
          args: ['30'],
          runtimePaths: [],
          env: { PATH: '/usr/bin' },
          socketDir,
          network: 'host',
          limits: { memoryMb: 64, maxProcesses: 8, maxOpenFiles: 64, tmpMb: 1 },
        }),
        /no room in this cgroup/,
      );
      // The sandbox reaps what it started on the way out of the failed start; give it time to.
      await waitFor(() => processesMentioning(socketDir).length === 0, 10_000, `no bwrap or namespace process left (${processesMentioning(socketDir).join(', ')})`);
    } finally {
      await sandbox.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});

/** Pids of processes whose command line contains `text`. */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
