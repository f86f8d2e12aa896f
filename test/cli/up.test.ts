/**
 * `nimbus up` as a child process: what it prints, and how it stops (docs/cli.md): Ctrl-C or SIGTERM
 * lets in-flight requests finish and exits 0; a second Ctrl-C exits 1 at once.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deploy, invoke, useAdminToken } from '../integration/harness.js';
import { END_OF_BODY, HOLD_UNTIL_BODY_ENDS, heldInvocation, RawConnection } from '../integration/raw-connection.js';
import { removeDir, runNimbus, startNimbus, tempDir, type RunningCli } from './helpers.js';

/** Starts `nimbus up` on a free port in a fresh data dir; `stop` ends it and removes the dir. */
async function up(extra: string[] = []): Promise<{ cli: RunningCli; url: string; dataDir: string; stop(): Promise<void> }> {
  const dataDir = await tempDir();
  const cli = startNimbus(['up', '--port', '0', '--data-dir', dataDir, ...extra]);
  const stop = async () => {
    await cli.close();
    await removeDir(dataDir);
  };
  try {
    const [, url] = await cli.waitFor(/^Nimbus serving on (http:\/\/\S+)$/m, 60_000);
    await cli.waitFor(/^Press Ctrl-C to stop\.$/m);
    await useAdminToken(url!, dataDir);
    return { cli, url: url!, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** An invocation of a deployed HOLD_UNTIL_BODY_ENDS function that has reached its instance. */
async function heldOn(url: string): Promise<RawConnection> {
  await deploy(url, 'hold', HOLD_UNTIL_BODY_ENDS);
  const connection = new RawConnection(url);
  connection.write(heldInvocation('hold'));
  await connection.waitFor(/started;/);
  return connection;
}

describe('nimbus up', { timeout: 120_000 }, () => {
  it("prints its address and the admin token's path, never the token; serves the CLI", async () => {
    const platform = await up();
    try {
      const { cli, url, dataDir } = platform;
      assert.match(cli.stdout(), new RegExp(`Data dir: ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(cli.stdout(), new RegExp(`^Admin token: ${join(dataDir, 'admin.token').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(log in with: nimbus login`, 'm'));
      const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
      assert.ok(token.length > 20, 'a token was written');
      assert.ok(!cli.stdout().includes(token) && !cli.stderr().includes(token), 'the token itself is never printed');
      const ls = await runNimbus(['ls', '--url', url], { env: { NIMBUS_TOKEN: token } });
      assert.equal(ls.code, 0, ls.stderr);
      assert.equal(ls.stdout.toString(), 'No functions deployed yet. Deploy one with: nimbus deploy <path> --name <name>\n');
    } finally {
      await platform.stop();
    }
  });

  it('SIGTERM lets the in-flight request finish, then exits 0', async () => {
    const platform = await up();
    let held: RawConnection | undefined;
    try {
      const { cli } = platform;
      held = await heldOn(platform.url);
      cli.signal('SIGTERM');
      await cli.waitFor(/^Stopping…$/m);
      assert.doesNotMatch(held.text(), /finished/);
      held.write(END_OF_BODY);
      await held.waitFor(/finished after 3 bytes\r\n0\r\n\r\n$/);
      assert.match(held.text(), /^HTTP\/1\.1 200 /);
      const exit = await cli.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, cli.stderr());
      assert.match(cli.stdout(), /^Stopped\.$/m);
    } finally {
      held?.destroy();
      await platform.stop();
    }
  });

  it('--max-body sets the body limit; Ctrl-C then a second Ctrl-C stops at once with exit 1', async () => {
    const platform = await up(['--max-body', '1kb']);
    let held: RawConnection | undefined;
    try {
      const { cli, url } = platform;
      assert.match(cli.stdout(), /^Max request body: 1 KB$/m);
      held = await heldOn(url);
      const echo = { file: 'index.js', content: 'export default async (req) => new Response(String((await req.arrayBuffer()).byteLength));' };
      await deploy(url, 'size', echo);
      assert.equal((await invoke(url, 'size', { body: Buffer.alloc(1024) })).text, '1024');
      const over = await invoke(url, 'size', { body: Buffer.alloc(1025) });
      assert.equal(over.status, 413);
      assert.equal(over.headers['x-nimbus-error'], 'PAYLOAD_TOO_LARGE');

      cli.signal('SIGINT');
      await cli.waitFor(/^Stopping…$/m);
      // The held request keeps the first Ctrl-C waiting; the second does not wait for it.
      cli.signal('SIGINT');
      const exit = await cli.exited;
      assert.deepEqual(exit, { code: 1, signal: null }, cli.stderr());
      assert.match(cli.stderr(), /^Forced stop\.$/m);
      assert.doesNotMatch(cli.stdout(), /^Stopped\.$/m);
      await held.closed;
      assert.doesNotMatch(held.text(), /finished/, 'the held request was cut, not finished');
    } finally {
      held?.destroy();
      await platform.stop();
    }
  });
});
