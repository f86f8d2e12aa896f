import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bwrapArgs, rlimitArgs, SANDBOX_CODE_DIR, SANDBOX_SOCKET_DIR } from '../../src/sandbox/bwrap-args.js';

const plan = {
  readOnly: ['/opt/nimbus/dist/src/runtimes/node'],
  socketDir: '/tmp/nimbus-x/p1',
  codeDir: '/tmp/nimbus-x/p1.code',
  network: 'none' as const,
  tmpBytes: 64 * 1024 * 1024,
  uid: 65534,
  command: ['/usr/bin/node', 'shim.cjs'],
};

/** The option pairs/triples of a bwrap command line, as strings, for readable assertions. */
const joined = (args: string[]) => args.join(' ');

describe('bwrapArgs', () => {
  test('every namespace, an unprivileged uid, no capabilities, no nested user namespaces', () => {
    const args = joined(bwrapArgs(plan));
    for (const part of ['--unshare-all', '--unshare-user', '--uid 65534', '--gid 65534', '--cap-drop ALL', '--disable-userns', '--die-with-parent', '--new-session', '--as-pid-1']) {
      assert.ok(args.includes(part), part);
    }
  });

  test('none and outbound get their own network namespace; only host shares the host network', () => {
    assert.ok(!bwrapArgs(plan).includes('--share-net'));
    assert.ok(!bwrapArgs({ ...plan, network: 'outbound' }).includes('--share-net'));
    assert.ok(bwrapArgs({ ...plan, network: 'host' }).includes('--share-net'));
  });

  test('code read-only at /code, socket dir writable at its fixed place, capped /tmp, read-only root', () => {
    const args = joined(bwrapArgs(plan));
    assert.ok(args.includes(`--ro-bind ${plan.codeDir} ${SANDBOX_CODE_DIR}`));
    assert.ok(args.includes(`--bind ${plan.socketDir} ${SANDBOX_SOCKET_DIR}`));
    assert.ok(args.includes(`--size ${plan.tmpBytes} --perms 1777 --tmpfs /tmp`));
    assert.ok(args.includes('--ro-bind /opt/nimbus/dist/src/runtimes/node /opt/nimbus/dist/src/runtimes/node'));
    assert.ok(args.includes('--remount-ro /'));
    // Nothing writable but the socket dir and /tmp: every other bind is read-only.
    const writable = bwrapArgs(plan).flatMap((arg, i, all) => (arg === '--bind' ? [all[i + 1]] : []));
    assert.deepEqual(writable, [plan.socketDir]);
  });

  test('the command comes last, after the handshake descriptors', () => {
    const args = bwrapArgs(plan);
    assert.deepEqual(args.slice(-3), ['--', '/usr/bin/node', 'shim.cjs']);
    assert.ok(joined(args).includes('--info-fd 4 --block-fd 5 --'));
  });
});

describe('rlimitArgs', () => {
  test('sets hard and soft limits for files and processes and forbids core dumps', () => {
    assert.deepEqual(rlimitArgs('/usr/bin/prlimit', { maxOpenFiles: 256, maxProcesses: 32 }), [
      '/usr/bin/prlimit',
      '--nofile=256:256',
      '--nproc=32:32',
      '--core=0:0',
      '--',
    ]);
  });
});

describe('bwrapArgs ordering', () => {
  test('runtime paths are bound after the private /tmp, so a runtime under the host /tmp stays visible', () => {
    const args = bwrapArgs({ ...plan, readOnly: ['/tmp/checkout/dist/src/runtimes/node'] });
    const tmpfs = args.indexOf('--tmpfs');
    const runtime = args.indexOf('/tmp/checkout/dist/src/runtimes/node');
    assert.ok(tmpfs !== -1 && runtime > tmpfs, 'the runtime bind comes after the tmpfs');
  });
});
