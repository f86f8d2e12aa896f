import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { chmod, cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Client } from 'undici';
import { inheritableDescriptors } from '../../src/sandbox/descriptors.js';
import type { Sandbox, SandboxedProcess, SandboxSpec } from '../../src/sandbox/types.js';

/** The stand-in runtime (source file: it is plain CommonJS and is not compiled). */
const FIXTURE_SOURCE = join(dirname(fileURLToPath(import.meta.url)), '../../../test/sandbox/fixtures');

/**
 * What every Sandbox must do, whatever it isolates: start the command with exactly the given
 * environment, hand over the control channel, let it listen in its socket directory, show it the
 * code it is given, and stop it on request.
 */
export function sandboxContract(name: string, make: () => Promise<Sandbox | undefined>): void {
  let sandbox: Sandbox | undefined;
  let work: string;
  /** The stand-in runtime, staged as the backend stages the shims (the checkout may be private). */
  let fixtureDir: string;
  const started: SandboxedProcess[] = [];

  before(async () => {
    sandbox = await make();
    work = await mkdtemp(join(tmpdir(), 'nimbus-sandbox-'));
    fixtureDir = join(work, 'fixtures');
    await cp(FIXTURE_SOURCE, fixtureDir, { recursive: true });
    await chmod(fixtureDir, 0o755);
    await chmod(join(fixtureDir, 'instance.cjs'), 0o644);
  });
  after(async () => {
    for (const proc of started) proc.kill('SIGKILL');
    await Promise.all(started.map((proc) => proc.exited));
    await sandbox?.close();
    await rm(work, { recursive: true, force: true });
  });

  let count = 0;
  async function start(overrides: Partial<SandboxSpec> = {}): Promise<{ proc: SandboxedProcess; get(path: string): Promise<any> }> {
    const socketDir = join(work, `p${count++}`);
    await mkdir(socketDir, { mode: 0o700 });
    const socket = join(socketDir, 'fn.sock');
    const proc = await sandbox!.start({
      command: process.execPath,
      args: [join(fixtureDir, 'instance.cjs')],
      runtimePaths: [fixtureDir],
      env: { PATH: '/usr/bin:/bin', NIMBUS_SOCKET: socket, CONTRACT_MARK: 'present' },
      socketDir,
      // Every sandbox can run the host's network; outbound needs pasta (test/integration/network.test.ts).
      network: 'host',
      limits: { memoryMb: 256, maxProcesses: 64, maxOpenFiles: 256, tmpMb: 16 },
      ...overrides,
    });
    started.push(proc);
    const ready = await new Promise<string>((resolve, reject) => {
      proc.control.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
      void proc.exited.then((exit) => reject(new Error(`exited before ready: ${JSON.stringify(exit)}`)));
    });
    assert.match(ready, /"ready"/);
    const client = new Client('http://localhost', { socketPath: socket });
    void proc.exited.then(() => client.destroy());
    const get = async (path: string) => {
      const res = await client.request({ path, method: 'GET' });
      return res.body.json();
    };
    return { proc, get };
  }

  test(`${name}: starts the command with exactly the environment given, and a control channel`, async (t) => {
    if (!sandbox) return t.skip(`${name} is not available on this host`);
    process.env.NIMBUS_CONTRACT_LEAK = 'leak';
    try {
      const { get } = await start();
      const { env } = await get('/env');
      assert.equal(env.CONTRACT_MARK, 'present');
      assert.equal(env.NIMBUS_CONTRACT_LEAK, undefined);
      for (const key of Object.keys(env)) assert.ok(['PATH', 'NIMBUS_SOCKET', 'CONTRACT_MARK', 'HOME', 'TMPDIR', 'PWD'].includes(key), `unexpected ${key}`);
    } finally {
      delete process.env.NIMBUS_CONTRACT_LEAK;
    }
  });

  test(`${name}: mountCode makes the code readable at the path it answers`, async (t) => {
    if (!sandbox) return t.skip(`${name} is not available on this host`);
    const code = join(work, 'code');
    await mkdir(code, { recursive: true });
    await writeFile(join(code, 'handler.js'), 'contract code');
    const { proc, get } = await start();
    const inside = await proc.mountCode(code);
    assert.deepEqual(await get(`/read?path=${encodeURIComponent(join(inside, 'handler.js'))}`), { content: 'contract code' });
  });

  test(`${name}: kill stops it and exited resolves with how it ended`, async (t) => {
    if (!sandbox) return t.skip(`${name} is not available on this host`);
    const { proc } = await start();
    proc.kill('SIGTERM');
    const graceful = await proc.exited;
    assert.equal(graceful.code, 0);
    assert.equal(graceful.outOfMemory, false);
    const { proc: second } = await start();
    second.kill('SIGKILL');
    assert.equal((await second.exited).signal, 'SIGKILL');
  });

  test(`${name}: killed right after its start, twenty times: no pipe error goes unhandled`, async (t) => {
    if (!sandbox) return t.skip(`${name} is not available on this host`);
    // What a platform closing just after starting its warm runtimes does; an 'error' event without
    // a listener on any of the process's pipes would crash the platform (node:test fails this test).
    for (let i = 0; i < 20; i++) {
      const socketDir = join(work, `k${i}`);
      await mkdir(socketDir, { mode: 0o700 });
      const proc: SandboxedProcess = await sandbox!.start({
        command: process.execPath,
        args: [join(fixtureDir, 'instance.cjs')],
        runtimePaths: [fixtureDir],
        env: { PATH: '/usr/bin:/bin', NIMBUS_SOCKET: join(socketDir, 'fn.sock') },
        socketDir,
        // Any network the sandbox offers: this is about the pipes, not the network.
        network: sandbox!.networkPolicies[0]!,
        limits: { memoryMb: 256, maxProcesses: 64, maxOpenFiles: 256, tmpMb: 16 },
      });
      proc.kill('SIGKILL');
      assert.equal((await proc.exited).signal, 'SIGKILL');
    }
  });

  test(`${name}: passes on no descriptor of the platform but its own pipes`, async (t) => {
    if (!sandbox) return t.skip(`${name} is not available on this host`);
    const { get } = await start();
    const { targets } = (await get('/fds')) as { targets: Array<string | null> };
    // What this process could pass on (opened without close-on-exec): none of it may arrive.
    const ours = inheritableDescriptors().map((fd) => readlinkSync(`/proc/self/fd/${fd}`)).filter((target) => target !== '/dev/null');
    for (const target of ours) assert.ok(!targets.includes(target), `${target} reached the instance`);
  });
}
