/**
 * `nimbus doctor` on hosts made to lack bubblewrap or cgroups: the command runs in its own mount
 * namespace where `bwrap` is hidden or the cgroup hierarchies are unmounted, so what it reports is
 * checked against a host whose answer is known, not against the probe it wraps.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { hostHas } from '../sandbox/host-needs.js';
import { CLI_MAIN, runInProcess } from './helpers.js';

/** Runs `nimbus doctor <args>` after `setup` (shell commands) in a new mount namespace. */
function doctorOn(setup: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = `${setup} && exec "$0" "$@"`;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', 'sh', '-c', command, process.execPath, CLI_MAIN, 'doctor', ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Why this host cannot make mount namespaces for these tests; undefined when it can. */
function namespaceProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/usr/bin/unshare')) return 'no /usr/bin/unshare (util-linux)';
  return undefined;
}

/** Hides every `bwrap` the probe looks for (merged /usr makes /bin/bwrap the same file). */
const WITHOUT_BWRAP = 'for f in /usr/bin/bwrap /usr/local/bin/bwrap; do [ ! -e "$f" ] || mount --bind /dev/null "$f"; done';
/** Unmounts every cgroup hierarchy. */
const WITHOUT_CGROUPS = 'umount -R /sys/fs/cgroup';

type Report = { sandbox: string; checks: Array<{ name: string; ok: boolean; detail: string }>; protections: Array<{ name: string; active: boolean; detail: string }> };

describe('nimbus doctor', { timeout: 60_000 }, () => {
  test('without bubblewrap: the process sandbox, bubblewrap missing with how to install it, no file system isolation claimed', async (t) => {
    if (!hostHas(t, 'root and unshare', namespaceProblem())) return;
    const json = await doctorOn(WITHOUT_BWRAP, ['--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.sandbox, 'process');
    const bwrap = report.checks.find((c) => c.name === 'bubblewrap');
    assert.deepEqual(bwrap, { name: 'bubblewrap', ok: false, detail: 'bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)' });
    assert.equal(report.protections.find((p) => p.name === 'file system isolation')?.active, false);
    assert.equal(report.protections.find((p) => p.name === 'unprivileged user')?.active, false);

    const human = await doctorOn(WITHOUT_BWRAP);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Sandbox: process/m);
    assert.match(human.stdout, /^ {2}bubblewrap +missing +bwrap is not installed/m);
    assert.match(human.stdout, /^To turn on what is missing:\n {2}bubblewrap: /m);
  });

  test('without cgroups: bubblewrap still, cgroups missing, the memory limit reported off and the process limit from rlimits', async (t) => {
    if (!hostHas(t, 'root and unshare', namespaceProblem())) return;
    const json = await doctorOn(WITHOUT_CGROUPS, ['--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.sandbox, 'bubblewrap');
    const cgroups = report.checks.find((c) => c.name === 'cgroups');
    assert.equal(cgroups?.ok, false);
    assert.match(cgroups!.detail, /^unavailable: /);
    assert.deepEqual(report.protections.find((p) => p.name === 'memory limit'), { name: 'memory limit', active: false, detail: 'no cgroup could be created: only the runtime heap limit' });
    assert.equal(report.protections.find((p) => p.name === 'process limit')?.detail, 'RLIMIT_NPROC');

    const human = await doctorOn(WITHOUT_CGROUPS);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^ {2}cgroups +missing +unavailable: /m);
    assert.match(human.stdout, /^To turn on what is missing:\n {2}cgroups: run nimbus as root, or in a cgroup delegated to its user/m);
  });

  test('starts a real instance of each runtime in the sandbox it would use, and reports each', async () => {
    const { code, stdout } = await runInProcess(['doctor', '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as Report;
    // Node was started in bubblewrap to choose it (the "sandboxed runtime" check); the others after.
    const names = report.checks.map((c) => c.name);
    const nodeCheck = report.sandbox === 'bubblewrap' ? 'sandboxed runtime' : 'node runtime';
    for (const name of [nodeCheck, 'python runtime', 'exec runtime']) {
      const check = report.checks.find((c) => c.name === name);
      assert.ok(check, `${name} in ${names.join(', ')}`);
      assert.equal(check.ok, true, check.detail);
    }
  });

  test('says what limits ptrace in instances, and what does not', async () => {
    const { code, stdout } = await runInProcess(['doctor']);
    assert.equal(code, 0);
    assert.match(stdout, /^ptrace:$/m);
    assert.match(stdout, /^ {2}on {3}an instance stopped by ptrace is recycled at its deadline/m);
    const json = JSON.parse((await runInProcess(['doctor', '--json'])).stdout) as { sandbox: string; ptrace: { blockedInsideInstance: boolean; enforced: string[]; notEnforced: string[] } };
    // With bubblewrap on x86_64 the seccomp filter refuses ptrace; elsewhere doctor says it does not.
    const filtered = json.sandbox === 'bubblewrap' && process.arch === 'x64';
    assert.match(stdout, filtered ? /^ {2}on {3}a seccomp filter refuses the ptrace system call in every instance \(EPERM\)$/m : /^ {2}off {2}no seccomp filter blocks the ptrace system call/m);
    assert.equal(json.ptrace.blockedInsideInstance || !filtered, true);
    assert.ok(json.ptrace.enforced.length > 0);
  });
});
