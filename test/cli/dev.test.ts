/** `nimbus dev`: deploy, redeploy on change, tail the logs; start a platform when none runs. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';

import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/program.js';
import { freePort, invoke, startPlatform, type TestPlatform } from '../integration/harness.js';
import { eventually, memoryIO, removeDir, tempDir, writeTree } from './helpers.js';

const handler = (text: string) => `export default (request) => { console.log('serving ${text}'); return new Response('${text}'); };\n`;


describe('nimbus dev', () => {
  let platform: TestPlatform;
  let dir: string;
  before(async () => {
    platform = await startPlatform();
    dir = await tempDir();
  });
  after(async () => {
    await platform?.close();
    await removeDir(dir);
  });

  test('deploys, redeploys on a change, prints the logs, and stops on Ctrl-C', async () => {
    await writeTree(dir, { 'live/index.js': handler('v1') });
    const io = memoryIO({ cwd: dir, env: { NIMBUS_TOKEN: platform.token } });
    const done = runCli(['dev', 'live', '--url', platform.url], io);
    try {
      await eventually(async () => io.stdoutText().includes('Watching live for changes'), 20_000, 20);
      assert.match(io.stdoutText(), /Deployed live \(version 1\)/);
      assert.equal((await invoke(platform.url, 'live')).text, 'v1');
      await eventually(async () => io.stdoutText().includes('serving v1'), 10_000, 20);
      await writeFile(join(dir, 'live', 'index.js'), handler('v2'));
      await eventually(async () => io.stdoutText().includes('Redeployed live (version 2)'), 20_000, 20);
      assert.equal((await invoke(platform.url, 'live')).text, 'v2');
      // A change that breaks the code is reported, and the last good version keeps serving.
      await writeFile(join(dir, 'live', 'index.js'), 'export const nothing = 1;\n');
      await eventually(async () => io.stdoutText().includes('Not deployed:'), 20_000, 20);
      assert.equal((await invoke(platform.url, 'live')).text, 'v2');
    } finally {
      io.signal('SIGINT');
    }
    assert.equal(await done, 0, io.stderrText());
  });

  test('with no platform at a local --url, starts one for the session and stops it after', async () => {
    await writeTree(dir, { 'solo/index.js': handler('solo') });
    const url = `http://127.0.0.1:${await freePort()}`;
    const io = memoryIO({ cwd: dir });
    const done = runCli(['dev', 'solo', '--url', url], io);
    try {
      await eventually(async () => io.stdoutText().includes('Watching solo'), 30_000, 20);
      assert.match(io.stderrText(), new RegExp(`Started Nimbus on ${url.replace(/\./g, '\\.')}`));
      assert.equal((await invoke(url, 'solo')).text, 'solo');
    } finally {
      io.signal('SIGINT');
    }
    assert.equal(await done, 0, io.stderrText());
    await assert.rejects(fetch(`${url}/healthz`), 'the platform stopped with the command');
  });
});
