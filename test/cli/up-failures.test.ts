/**
 * `nimbus up` that cannot start exits non-zero at once, having released what it started; a
 * supervisor restarting it must not pile up processes, databases and cgroups.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, runNimbus, tempDir } from './helpers.js';

/**
 * Far below the 30 s after which the run is killed, so a start that hangs on its failure is
 * told from one that exits; starting node, probing the host (a sandboxed runtime start) and
 * releasing a warm pool take 1-2 s here, and up to 5 s seen with the machine fully loaded.
 */
const PROMPT_EXIT_MS = 10_000;

async function up(args: string[]) {
  const started = Date.now();
  const result = await runNimbus(['up', ...args], { timeoutMs: 30_000 });
  return { ...result, ms: Date.now() - started };
}

describe('nimbus up that cannot start', () => {
  let dir: string;
  let busy: Server;
  let port = 0;
  before(async () => {
    dir = await tempDir();
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  after(async () => {
    busy.close();
    await removeDir(dir);
  });

  it('exits 1 promptly when the port is taken', async () => {
    const r = await up(['--port', String(port), '--data-dir', join(dir, 'busy')]);
    assert.equal(r.signal, null, `killed after ${r.ms} ms: it did not exit by itself`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /already in use/);
    assert.ok(r.ms < PROMPT_EXIT_MS, `exited after ${r.ms} ms`);
  });

  it('exits 1 promptly when the data dir cannot be used', async () => {
    const notADir = join(dir, 'a-file');
    await writeFile(notADir, 'not a directory');
    const r = await up(['--port', '0', '--data-dir', notADir]);
    assert.equal(r.signal, null, `killed after ${r.ms} ms`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /a-file/);
    assert.ok(r.ms < PROMPT_EXIT_MS, `exited after ${r.ms} ms`);
  });

  it('exits 1 promptly when the secrets key file is damaged', async () => {
    const dataDir = join(dir, 'damaged');
    await mkdir(dataDir, { mode: 0o700 });
    await writeFile(join(dataDir, 'secrets.key'), 'not a key', { mode: 0o600 });
    const r = await up(['--port', '0', '--data-dir', dataDir]);
    assert.equal(r.signal, null, `killed after ${r.ms} ms`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /secrets\.key/);
    assert.ok(r.ms < PROMPT_EXIT_MS, `exited after ${r.ms} ms`);
  });
});
