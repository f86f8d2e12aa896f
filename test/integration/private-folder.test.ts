/**
 * Nimbus installed in a folder only its owner can enter (a clone under /root, a `mktemp -d`
 * folder), run as root with bubblewrap: instances run as uid 65534, which cannot walk that path.
 * The shims are staged where it can; an interpreter it cannot reach is named at start-up.
 * (CI also runs the whole suite from such a folder: see .ci/run.)
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, linkSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createNodeAdapter, runtimeAdapters } from '../../src/runtime-adapters/index.js';
import { probeHost } from '../../src/sandbox/probe.js';
import { startServer } from '../../src/server.js';
import { deploy, invoke, startPlatform, writeFunction } from './harness.js';

const probe = await probeHost();
const usable = process.getuid?.() === 0 && probe.bwrap !== undefined && probe.bwrapProblem === undefined;
// Under CI the set-up must be there: the tests run, and fail, rather than skip.
const skip = !usable && process.env.CI !== 'true' && `needs root and a working bubblewrap (${probe.bwrapProblem ?? 'not root'})`;

const root = mkdtempSync(join(tmpdir(), 'nimbus-private-'));
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));

/** A folder inside the mode-0700 folder `root/name`, as a checkout under /root is. */
function privateFolder(name: string): string {
  mkdirSync(join(root, name), { mode: 0o700 });
  const dir = join(root, name, 'inside');
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

describe('Nimbus in a private folder, instances in bubblewrap as another uid', { skip }, () => {
  test('shims under a mode-0700 folder: instances start (the shims are staged in the run directory)', async () => {
    const shims = join(privateFolder('checkout'), 'node');
    cpSync(runtimeAdapters.node.shimDir, shims, { recursive: true });
    const platform = await startPlatform({ sandbox: 'bubblewrap', runtimes: { node: createNodeAdapter(shims) } });
    try {
      assert.equal(platform.server.sandbox, 'bubblewrap');
      const dir = await writeFunction({ 'index.js': 'export default () => new Response(`uid ${process.getuid()}`)' });
      await deploy(platform.url, 'hello', dir);
      const res = await invoke(platform.url, 'hello');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, 'uid 65534');
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await platform.close();
    }
  });

  test('node under a mode-0700 folder: one sentence names the binary, the folder, its mode and the fix', async () => {
    const folder = privateFolder('nvm');
    const node = join(folder, 'node');
    try {
      linkSync(process.execPath, node); // same file system: no 100 MB copy
    } catch {
      cpSync(process.execPath, node);
    }
    const runtimes = { node: createNodeAdapter(undefined, node) };
    const dataDir = mkdtempSync(join(root, 'data-'));
    await assert.rejects(
      startServer({ port: 0, dataDir, sandbox: 'bubblewrap', warmPoolSize: 0, runtimes }),
      (err: Error) => {
        assert.equal(err.name, 'SandboxUnavailableError');
        assert.match(err.message, new RegExp(`host uid \\d+\\) cannot reach ${node}: ${join(root, 'nvm')} is mode 0700\\. Install node where every user can read it`));
        return true;
      },
    );
    // auto falls back to the process sandbox, says why, and serves.
    const platform = await startPlatform({ warmPoolSize: 0, runtimes });
    try {
      assert.equal(platform.server.sandbox, 'process');
      assert.match(platform.server.sandboxProblem ?? '', /cannot reach .* is mode 0700/);
      assert.deepEqual(
        platform.server.hostChecks.filter((c) => c.name === 'sandboxed runtime').map((c) => c.ok),
        [false],
      );
      const dir = await writeFunction({ 'index.js': 'export default () => new Response("ok")' });
      // The process sandbox serves only the host's network.
      await deploy(platform.url, 'hello', dir, { network: 'host' });
      assert.equal((await invoke(platform.url, 'hello')).status, 200);
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await platform.close();
    }
  });
});
