import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startNimbus } from '../cli/helpers.js';
import { alive, api, deploy, invoke, startPlatform, useAdminToken, waitFor } from './harness.js';
import { END_OF_BODY, heldInvocation, holdUntilBodyEnds, RawConnection } from './raw-connection.js';

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
    const connections: RawConnection[] = [];
    try {
      await deploy(platform.url, 'rolling', holdUntilBodyEnds('v1'));
      assert.equal((await invoke(platform.url, 'rolling')).text, 'v1');
      // Five requests running on v1, held until the test ends their bodies after the redeploy.
      const running = Array.from({ length: 5 }, () => new RawConnection(platform.url));
      connections.push(...running);
      for (const connection of running) connection.write(heldInvocation('rolling'));
      await Promise.all(running.map((connection) => connection.waitFor(/started;/)));
      const fn = await deploy(platform.url, 'rolling', holdUntilBodyEnds('v2'));
      assert.equal(fn.version, 2);
      assert.equal((await invoke(platform.url, 'rolling')).text, 'v2');
      for (const connection of running) connection.write(END_OF_BODY);
      for (const connection of running) {
        await connection.waitFor(/finished after 3 bytes by v1\r\n0\r\n\r\n$/);
        assert.match(connection.text(), /^HTTP\/1\.1 200 /);
      }
      // The old instance drains and stops: only the new one is left.
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/rolling')).json!.instances === 1, 20_000, 'old instance to stop');
    } finally {
      for (const connection of connections) connection.destroy();
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
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/sleepy')).json!.instances === 0, 20_000, 'scale to zero');
      await waitFor(() => !alive(pid), 20_000, 'the instance process to exit');
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
      await waitFor(() => !alive(pid), 20_000, 'the stubborn instance to be killed');
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
    const platform = startNimbus(['up', '--port', '0', '--data-dir', dataDir]);
    try {
      const [, url] = await platform.waitFor(/^Nimbus serving on (\S+)$/m, 60_000);
      await useAdminToken(url!, dataDir);
      await deploy(url!, 'orphan-check', versioned('x'));
      await deploy(url!, 'orphan-check-2', { file: 'handler.py', content: 'def handler(e, c):\n    return "py"\n' });
      assert.equal((await invoke(url!, 'orphan-check')).text, 'x');
      assert.equal((await invoke(url!, 'orphan-check-2')).text, 'py');
      const children = await childrenOf(platform.pid);
      assert.ok(children.length >= 2, `found instances ${children.join(',')}`);
      // Their children too: pasta, which connects outbound instances, runs below a supervising script.
      const instances = [...children, ...(await Promise.all(children.map(childrenOf))).flat()];
      platform.signal('SIGKILL');
      await waitFor(() => instances.every((pid) => !alive(pid)), 20_000, 'instances to exit after the platform died');
    } finally {
      await platform.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
