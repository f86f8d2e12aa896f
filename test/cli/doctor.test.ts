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
      report.checks.slice(0, probe.checks.length).map((c) => [c.name, c.ok]),
      probe.checks.map((c) => [c.name, c.ok]),
    );
    // Then a real instance of each runtime, in the sandbox chosen (node was started to choose bubblewrap).
    const runtimeChecks = report.checks.slice(probe.checks.length).map((c) => [c.name, c.ok]);
    const nodeCheck = report.sandbox === 'bubblewrap' ? 'sandboxed runtime' : 'node runtime';
    assert.deepEqual(runtimeChecks.map(([name]) => name).sort(), [nodeCheck, 'python runtime', 'exec runtime'].sort());
    assert.ok(runtimeChecks.every(([, ok]) => ok), JSON.stringify(report.checks));
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
});
