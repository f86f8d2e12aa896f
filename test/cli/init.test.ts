/** `nimbus init`: every template deploys and answers as written. */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TEMPLATES } from '../../src/cli/templates.js';
import { invoke, startPlatform, type TestPlatform } from '../integration/harness.js';
import { removeDir, runInProcess, tempDir } from './helpers.js';

describe('nimbus init', () => {
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
  const run = (args: string[]) => runInProcess(args, { cwd: dir, env: { NIMBUS_URL: platform.url, NIMBUS_TOKEN: platform.token } });

  // Templates with npm dependencies are checked for their files; the rest are deployed and called.
  const deployable = TEMPLATES.filter((t) => t !== 'hono' && t !== 'express');

  for (const template of deployable) {
    test(`--template ${template}: written, deployed by folder name, answers 200`, async () => {
      const name = `t-${template}`;
      const made = await run(['init', name, '--template', template]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, new RegExp(`Next:\\n  nimbus deploy ${name}\\n  nimbus invoke ${name}\\n`));
      const deployed = await run(['deploy', name]);
      assert.equal(deployed.code, 0, deployed.stderr);
      const res = await invoke(platform.url, name, { method: 'POST', body: 'hi' });
      assert.equal(res.status, 200, `${template}: ${res.text}`);
    });
  }

  test('templates with dependencies say to install them; the exec script is executable', async () => {
    for (const template of ['hono', 'express'] as const) {
      const made = await run(['init', `t-${template}`, '--template', template]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, new RegExp(`\\(cd t-${template} && npm install\\)`));
      const pkg = JSON.parse(await readFile(join(dir, `t-${template}`, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      assert.ok(pkg.dependencies[template], `${template} is a dependency`);
    }
    assert.equal((await stat(join(dir, 't-exec', 'run.sh'))).mode & 0o111, 0o111);
  });

  test('refuses a folder that is not empty, and names without letters', async () => {
    const again = await run(['init', 't-node']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists and is not empty/);
    assert.equal((await run(['init', '___'])).code, 2);
  });
});
