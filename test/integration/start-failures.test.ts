/**
 * Instances that cannot start must never take the platform down. A real platform runs as a child
 * process (so a crash shows as its exit) with a python runtime that fails in one of several ways
 * (see fixtures/faulty-platform.ts); while its starts fail, the platform keeps answering /healthz
 * and a node function, and every failed start is a 502 FUNCTION_START_FAILED that says why.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deploy, invoke, useAdminToken, waitFor, writeFunction } from './harness.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/faulty-platform.js', import.meta.url));

interface FaultyPlatform {
  url: string;
  /** The admin token: failing invocations show their reason only to callers presenting one. */
  token: string;
  child: ChildProcess;
  stderr: () => string;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startFaulty(mode: string, marker: string): Promise<FaultyPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-faulty-'));
  const child = spawn(process.execPath, [FIXTURE, mode, dataDir, marker], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dataDir, { recursive: true, force: true });
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the platform exited (${code}) before serving: ${stderr.slice(-2000)}`)));
  });
  const { url } = JSON.parse(first) as { url: string };
  const token = await useAdminToken(url, dataDir);
  return { url, token, child, stderr: () => stderr };
}

/** Pids of the runtime shells whose command line ends with `marker` (not the platform or bwrap, which carry it too). */
function runtimesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('/bin/sh\0') && cmdline.endsWith(`${marker}\0`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const MODES: { mode: string; why: RegExp }[] = [
  { mode: 'missing', why: /nonexistent|ENOENT|No such file/ },
  { mode: 'unreadable', why: /Permission denied|EACCES|private-runtime/ },
  { mode: 'dies', why: /code 3|gave up/ },
  { mode: 'killed', why: /SIGKILL/ },
];

describe('failed instance starts never crash the platform', () => {
  for (const { mode, why } of MODES) {
    test(`python runtime ${mode}: 502 FUNCTION_START_FAILED with the reason, the platform keeps serving`, async () => {
      const marker = `nimbus-victim-${process.pid}-${mode}`;
      const platform = await startFaulty(mode, marker);
      const hello = await writeFunction({ 'index.js': 'export default () => new Response("still here")' });
      const broken = await writeFunction({ 'main.py': 'def handler(event, context):\n    return {"statusCode": 200}\n' });
      cleanups.push(() => rm(hello, { recursive: true, force: true }), () => rm(broken, { recursive: true, force: true }));
      await deploy(platform.url, 'hello', hello);

      // The killed mode: the runtime waits half-way through its ready message until we kill it
      // (the deploy's own check of the new code starts one too).
      let killed = 0;
      const killer =
        mode === 'killed'
          ? waitFor(() => {
              assert.equal(platform.child.exitCode, null, `the platform died: ${platform.stderr().slice(-2000)}`);
              for (const pid of runtimesWith(marker)) {
                try {
                  process.kill(pid, 'SIGKILL');
                  killed++;
                } catch (err) {
                  // Gone between the listing and the kill (the platform gave up on it first).
                  if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
                }
              }
              return killed >= 5;
            }, 30_000, 'five half-started runtimes to kill')
          : Promise.resolve();
      // A start that fails for the platform's reasons does not block the deploy: it is reported.
      const deployed = await deploy(platform.url, 'broken', broken, { runtime: 'python', handler: 'main.handler' });
      assert.match(deployed.lastStartError?.message ?? '', why);

      // Failing starts and healthy traffic at the same time.
      const failing = Array.from({ length: 5 }, async () => {
        const res = await invoke(platform.url, 'broken', { headers: { 'x-nimbus-token': platform.token } });
        assert.equal(res.status, 502, res.text);
        assert.equal(res.headers['x-nimbus-error'], 'FUNCTION_START_FAILED');
        assert.match(res.text, why);
      });
      const healthy = (async () => {
        for (let i = 0; i < 10; i++) {
          const res = await invoke(platform.url, 'hello');
          assert.equal(res.status, 200);
          assert.equal(res.text, 'still here');
          const health = await fetch(`${platform.url}/healthz`);
          assert.equal(health.status, 200);
        }
      })();
      await Promise.all([...failing, healthy, killer]);
      // Sequential failures too, after the burst.
      for (let i = 0; i < 2 && mode !== 'killed'; i++) assert.equal((await invoke(platform.url, 'broken')).status, 502);

      assert.equal(platform.child.exitCode, null, `the platform died: ${platform.stderr().slice(-2000)}`);
      assert.equal((await invoke(platform.url, 'hello')).status, 200);
      assert.doesNotMatch(platform.stderr(), /uncaught|unhandled|internal error/i);
      platform.child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => platform.child.once('exit', (exitCode) => resolve(exitCode)));
      assert.equal(code, 0, platform.stderr().slice(-2000));
    });
  }
});
