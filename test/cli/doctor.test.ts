import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { probeHost } from '../../src/sandbox/probe.js';
import { runInProcess } from './helpers.js';

describe('nimbus doctor', () => {
  test('--json reports the same checks as the start-up probe, and only protections of the chosen sandbox', async () => {
    const { code, stdout } = await runInProcess(['doctor', '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as { sandbox: string; checks: Array<{ name: string; ok: boolean }>; protections: Array<{ name: string; active: boolean }> };
    const probe = await probeHost();
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.ok]),
      probe.checks.map((c) => [c.name, c.ok]),
    );
    assert.equal(report.sandbox, probe.bwrapProblem ? 'process' : 'bubblewrap');
    const fsIsolation = report.protections.find((p) => p.name === 'file system isolation');
    assert.equal(fsIsolation?.active, report.sandbox === 'bubblewrap', 'file system isolation is claimed only with bubblewrap');
  });

  test('human output lists checks and protections, and how to fix what is missing', async () => {
    const { code, stdout } = await runInProcess(['doctor']);
    assert.equal(code, 0);
    assert.match(stdout, /^Sandbox: (bubblewrap|process)/m);
    assert.match(stdout, /Checks:\n {2}bubblewrap/);
    assert.match(stdout, /Protections of each instance:/);
    if (/missing/.test(stdout)) assert.match(stdout, /To turn on what is missing:/);
  });

  test('says what limits ptrace in instances, and what does not', async () => {
    const { code, stdout } = await runInProcess(['doctor']);
    assert.equal(code, 0);
    assert.match(stdout, /^ptrace:$/m);
    assert.match(stdout, /^ {2}on {3}an instance stopped by ptrace is recycled at its deadline/m);
    assert.match(stdout, /^ {2}off {2}no seccomp filter blocks the ptrace system call$/m);
    const json = JSON.parse((await runInProcess(['doctor', '--json'])).stdout) as { ptrace: { enforced: string[]; notEnforced: string[] } };
    assert.ok(json.ptrace.enforced.length > 0 && json.ptrace.notEnforced.length > 0);
  });
});
