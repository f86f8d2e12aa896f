import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { alive, api, deploy, invoke, ROOT, startPlatform, useAdminToken, waitFor } from './harness.js';

const versioned = (tag: string, delayMs = 0) => ({
  file: 'index.js',
  content: `export default async (req) => {
    const wait = Number(new URL(req.url).searchParams.get('wait') ?? ${delayMs});
    if (wait) await new Promise((r) => setTimeout(r, wait));
    return new Response('${tag}');
  };`,
});

/** Child processes of `pid`, from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return found;
}

describe('instances over time', () => {
  test('redeploy while requests run: running requests finish on the old code, new ones get the new code', async () => {
    const platform = await startPlatform();
    try {
      await deploy(platform.url, 'rolling', versioned('v1'));
      assert.equal((await invoke(platform.url, 'rolling')).text, 'v1');
      const slow = Array.from({ length: 5 }, () => invoke(platform.url, 'rolling?wait=700'));
      await new Promise((r) => setTimeout(r, 200));
      const fn = await deploy(platform.url, 'rolling', versioned('v2'));
      assert.equal(fn.version, 2);
      assert.equal((await invoke(platform.url, 'rolling')).text, 'v2');
      for (const res of await Promise.all(slow)) {
        assert.equal(res.status, 200);
        assert.equal(res.text, 'v1');
      }
      // The old instance drains and stops: only the new one is left.
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/rolling')).json!.instances === 1, 5000, 'old instance to stop');
    } finally {
      await platform.close();
    }
  });

  test('scale to zero after the idle timeout, and back on the next request', async () => {
    const platform = await startPlatform();
    try {
      await deploy(platform.url, 'sleepy', versioned('awake'), { idleTimeout: '1s' });
      const first = await invoke(platform.url, 'sleepy');
      assert.equal(first.headers['x-nimbus-cold-start'], 'true');
      assert.match(String(first.headers['server-timing']), /^queue;dur=\d+(\.\d)?, start;dur=\d+(\.\d)?, handler;dur=\d+(\.\d)?$/);
      const warm = await invoke(platform.url, 'sleepy');
      assert.equal(warm.headers['x-nimbus-cold-start'], 'false');
      const [pid] = platform.server.instancePids('sleepy');
      assert.ok(pid);
      assert.equal((await api(platform.url, 'GET', '/api/v1/functions/sleepy')).json!.instances, 1);
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/sleepy')).json!.instances === 0, 5000, 'scale to zero');
      await waitFor(() => !alive(pid), 3000, 'the instance process to exit');
      const again = await invoke(platform.url, 'sleepy');
      assert.equal(again.text, 'awake');
      assert.equal(again.headers['x-nimbus-cold-start'], 'true');
    } finally {
      await platform.close();
    }
  });

  test('an instance that ignores SIGTERM is killed after the grace period when its function is removed', async () => {
    const platform = await startPlatform();
    try {
      // Replaces the runtime's own SIGTERM handler (graceful drain) with one that does nothing.
      const stubborn = 'process.removeAllListeners("SIGTERM"); process.on("SIGTERM", () => {}); export default () => new Response("here");';
      await deploy(platform.url, 'stubborn', { file: 'index.js', content: stubborn });
      assert.equal((await invoke(platform.url, 'stubborn')).text, 'here');
      const [pid] = platform.server.instancePids('stubborn');
      assert.ok(pid);
      const began = Date.now();
      const removed = await api(platform.url, 'DELETE', '/api/v1/functions/stubborn');
      assert.equal(removed.status, 204);
      await waitFor(() => !alive(pid), 8000, 'the stubborn instance to be killed');
      const took = Date.now() - began;
      // SIGTERM is ignored, so only the SIGKILL after the 3 s grace ends it.
      assert.ok(took >= 2500, `gone after ${took} ms: before the grace period ended`);
    } finally {
      await platform.close();
    }
  });

  test('functions survive a restart on the same data dir; close stops every instance', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-restart-'));
    try {
      const first = await startPlatform({ dataDir, keepData: true });
      await deploy(first.url, 'durable', versioned('persisted'), { env: { A: 'b' }, memory: 128 });
      await invoke(first.url, 'durable');
      const pids = first.server.instancePids('durable');
      assert.equal(pids.length, 1);
      await first.close();
      for (const pid of pids) assert.equal(alive(pid), false, 'instances stop with the platform');

      const second = await startPlatform({ dataDir, keepData: true });
      try {
        const fn = await api(second.url, 'GET', '/api/v1/functions/durable');
        assert.equal(fn.json!.memory, 128);
        assert.deepEqual(fn.json!.env, { A: 'b' });
        assert.equal((await invoke(second.url, 'durable')).text, 'persisted');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('no instance outlives a platform killed with SIGKILL', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-kill-'));
    const platform = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'up', '--port', '0', '--data-dir', dataDir], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: platform.stdout! });
        lines.on('line', (line) => {
          const match = /Nimbus serving on (\S+)/.exec(line);
          if (match?.[1]) resolve(match[1]);
        });
        platform.once('exit', (code) => reject(new Error(`platform exited early with ${code}`)));
      });
      await useAdminToken(url, dataDir);
      await deploy(url, 'orphan-check', versioned('x'));
      await deploy(url, 'orphan-check-2', { file: 'handler.py', content: 'def handler(e, c):\n    return "py"\n' });
      assert.equal((await invoke(url, 'orphan-check')).text, 'x');
      assert.equal((await invoke(url, 'orphan-check-2')).text, 'py');
      const children = await childrenOf(platform.pid!);
      assert.ok(children.length >= 2, `found instances ${children.join(',')}`);
      // Their children too: pasta, which connects outbound instances, runs below a supervising script.
      const instances = [...children, ...(await Promise.all(children.map(childrenOf))).flat()];
      platform.kill('SIGKILL');
      await waitFor(() => instances.every((pid) => !alive(pid)), 5000, 'instances to exit after the platform died');
    } finally {
      if (platform.exitCode === null) platform.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
