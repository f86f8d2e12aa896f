import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ptraceReport } from '../../src/sandbox/ptrace-policy.js';

describe('ptraceReport', () => {
  it('with the seccomp filter (bubblewrap on x86_64) attaching is refused, and it says so', () => {
    const report = ptraceReport(true, () => undefined, true);
    assert.equal(report.blockedInsideInstance, true);
    assert.match(report.enforced.join('\n'), /seccomp filter refuses the ptrace system call/);
    assert.doesNotMatch(report.notEnforced.join('\n'), /seccomp/);
  });

  it('without Yama or the filter nothing refuses attaching to the runtime, and it says so', () => {
    const report = ptraceReport(true, () => undefined, false);
    assert.equal(report.blockedInsideInstance, false);
    assert.equal(report.yamaScope, undefined);
    assert.match(report.notEnforced.join('\n'), /no Yama.*attach to the instance's own runtime/);
    assert.match(report.notEnforced.join('\n'), /no seccomp filter/);
    assert.match(report.enforced.join('\n'), /own PID namespace/);
    assert.match(report.enforced.join('\n'), /recycled at its deadline/);
  });

  it('Yama scope 1 or more refuses it; 0 does not', () => {
    assert.equal(ptraceReport(true, () => '1\n', false).blockedInsideInstance, true);
    assert.match(ptraceReport(true, () => '2\n', false).enforced.join('\n'), /ptrace_scope 2/);
    const zero = ptraceReport(true, () => '0\n', false);
    assert.equal(zero.blockedInsideInstance, false);
    assert.match(zero.notEnforced.join('\n'), /ptrace_scope is 0/);
  });

  it('never claims namespace isolation for the process sandbox', () => {
    const report = ptraceReport(false, () => '1\n', true);
    assert.doesNotMatch(report.enforced.join('\n'), /PID namespace/);
    assert.match(report.notEnforced.join('\n'), /no PID namespace/);
  });

  it('says which runtimes are dumpable: python is not, node and exec are, and who can read them', () => {
    for (const sandboxed of [true, false]) {
      const report = ptraceReport(sandboxed, () => undefined, true);
      assert.match(report.enforced.join('\n'), /python runtimes are not dumpable \(PR_SET_DUMPABLE 0\)/);
      assert.match(report.notEnforced.join('\n'), sandboxed ? /node and exec runtimes stay dumpable .*: processes the function starts in its own instance can read/ : /node and exec runtimes stay dumpable .*: any process of the platform's user can read/);
    }
  });

  it('the filter: seven instructions on x86_64, none elsewhere', async () => {
    const { ptraceFilter } = await import('../../src/sandbox/seccomp.js');
    assert.equal(ptraceFilter('x64')?.length, 7 * 8);
    assert.equal(ptraceFilter('arm64'), undefined);
  });
});
