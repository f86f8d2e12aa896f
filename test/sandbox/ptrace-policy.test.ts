import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ptraceReport } from '../../src/sandbox/ptrace-policy.js';

describe('ptraceReport', () => {
  it('without Yama nothing refuses attaching to the runtime, and it says so', () => {
    const report = ptraceReport(true, () => undefined);
    assert.equal(report.blockedInsideInstance, false);
    assert.equal(report.yamaScope, undefined);
    assert.match(report.notEnforced.join('\n'), /no Yama.*attach to the instance's own runtime/);
    assert.match(report.notEnforced.join('\n'), /no seccomp filter/);
    assert.match(report.enforced.join('\n'), /own PID namespace/);
    assert.match(report.enforced.join('\n'), /recycled at its deadline/);
  });

  it('Yama scope 1 or more refuses it; 0 does not', () => {
    assert.equal(ptraceReport(true, () => '1\n').blockedInsideInstance, true);
    assert.match(ptraceReport(true, () => '2\n').enforced.join('\n'), /ptrace_scope 2/);
    const zero = ptraceReport(true, () => '0\n');
    assert.equal(zero.blockedInsideInstance, false);
    assert.match(zero.notEnforced.join('\n'), /ptrace_scope is 0/);
  });

  it('never claims namespace isolation for the process sandbox', () => {
    const report = ptraceReport(false, () => '1\n');
    assert.doesNotMatch(report.enforced.join('\n'), /PID namespace/);
    assert.match(report.notEnforced.join('\n'), /no PID namespace/);
  });
});
