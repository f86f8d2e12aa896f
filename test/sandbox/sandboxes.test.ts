import { describe } from 'node:test';
import { BwrapSandbox } from '../../src/sandbox/bwrap.js';
import { StdioPlan } from '../../src/sandbox/descriptors.js';
import { ProcessSandbox } from '../../src/sandbox/process.js';
import { probeHost } from '../../src/sandbox/probe.js';
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
    return new BwrapSandbox({ bwrap: probe.bwrap!, prlimit: probe.prlimit, cgroups: probe.cgroups, hostUid: probe.hostUid, stdio: new StdioPlan() });
  });
});
