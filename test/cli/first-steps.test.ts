/** CLI conveniences for first steps: names from folders, invoke output that reads well, --json. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { functionNameFrom } from '../../src/cli/flags.js';
import { startPlatform, type TestPlatform } from '../integration/harness.js';
import { removeDir, runInProcess, tempDir, writeTree } from './helpers.js';

test('functionNameFrom makes DNS-label names from file and folder names', () => {
  assert.equal(functionNameFrom('hello'), 'hello');
  assert.equal(functionNameFrom('My_App v2'), 'my-app-v2');
  assert.equal(functionNameFrom('index.ts'), 'index');
  assert.equal(functionNameFrom('handler.py'), 'handler');
  assert.equal(functionNameFrom('2fast'), 'fn-2fast');
  assert.equal(functionNameFrom('--weird--'), 'weird');
  assert.equal(functionNameFrom('a'.repeat(80)), 'a'.repeat(63));
  assert.equal(functionNameFrom('___'), undefined);
});

describe('deploy and invoke for first steps', () => {
  let platform: TestPlatform;
  let dir: string;
  before(async () => {
    platform = await startPlatform();
    dir = await tempDir();
    await writeTree(dir, {
      'My_Echo/index.js': `export default async (request) => {
        const path = new URL(request.url).pathname;
        if (path === '/binary') return new Response(new Uint8Array([0xff, 0x00, 0xfe]));
        if (path === '/missing') return new Response('no such thing', { status: 404 });
        return new Response('no newline at the end');
      };`,
    });
  });
  after(async () => {
    await platform?.close();
    await removeDir(dir);
  });
  const run = (args: string[], options: Parameters<typeof runInProcess>[1] = {}) =>
    runInProcess([...args, '--url', platform.url, '--token', platform.token], { cwd: dir, ...options });

  test('deploy without --name takes the folder name, made DNS-safe, and says so', async () => {
    const res = await run(['deploy', join(dir, 'My_Echo')]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /Function name: my-echo \(from "My_Echo"; choose another with --name\)/);
    assert.match(res.stdout, /Deployed my-echo/);
    const unusable = await run(['deploy', join(dir, 'My_Echo'), '--json']);
    assert.equal(unusable.code, 0);
    assert.equal(JSON.parse(unusable.stdout).name, 'my-echo');
  });

  test('invoke ends with a newline on a terminal only; pipes get the bytes as they are', async () => {
    const tty = await run(['invoke', 'my-echo'], { tty: true });
    assert.equal(tty.stdout, 'no newline at the end\n');
    const piped = await run(['invoke', 'my-echo']);
    assert.equal(piped.stdout, 'no newline at the end');
  });

  test('invoke --json: status, headers and body (base64 when not UTF-8); exit 1 on 4xx', async () => {
    const text = await run(['invoke', 'my-echo', '--json']);
    assert.equal(text.code, 0);
    const answer = JSON.parse(text.stdout);
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'no newline at the end');
    assert.match(answer.headers['content-type'], /^text\/plain/);
    assert.equal(answer.bodyEncoding, undefined);
    const binary = JSON.parse((await run(['invoke', 'my-echo', '--path', '/binary', '--json'])).stdout);
    assert.deepEqual([binary.body, binary.bodyEncoding], [Buffer.from([0xff, 0x00, 0xfe]).toString('base64'), 'base64']);
    const missing = await run(['invoke', 'my-echo', '--path', '/missing', '--json']);
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).status, 404);
  });
});
