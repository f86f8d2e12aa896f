/**
 * `nimbus secret …` and `nimbus deploy --secret`, run in-process against a real platform. Every
 * output is also checked for the values: the CLI never prints one.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/program.js';
import { readHiddenLine } from '../../src/cli/secret-input.js';
import { invoke, startPlatform, type TestPlatform } from '../integration/harness.js';
import { memoryIO, removeDir, runInProcess, tempDir, writeTree } from './helpers.js';

const SHOW = 'export default () => Response.json({ api: process.env.API_KEY ?? null, file: process.env.FILE_KEY ?? null });\n';
const VALUES = ['stdin-value-71c2', 'file-value-9e04', 'typed-value-3b5d', 'rotated-value-55aa'];

let platform: TestPlatform;
let dir: string;
const outputs: string[] = [];

async function run(args: string[], options: Parameters<typeof runInProcess>[1] = {}) {
  const r = await runInProcess([...args, '--url', platform.url], { cwd: dir, ...options, env: { NIMBUS_TOKEN: platform.token, ...options.env } });
  outputs.push(r.stdout, r.stderr);
  return r;
}

const env = async (fn = 'show') => JSON.parse((await invoke(platform.url, fn)).text) as { api: string | null; file: string | null };

before(async () => {
  platform = await startPlatform();
  dir = await tempDir();
  await writeTree(dir, { 'show.js': SHOW });
});
after(async () => {
  await platform?.close();
  if (dir) await removeDir(dir);
});

describe('nimbus secret', () => {
  it('ls on a fresh platform says how to set one', async () => {
    const r = await run(['secret', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'No secrets yet. Set one with: nimbus secret set <NAME>\n');
    assert.deepEqual(JSON.parse((await run(['secret', 'ls', '--json'])).stdout), []);
  });

  it('set reads piped stdin (minus one trailing newline) and --from-file byte for byte; deploy --secret exposes them', async () => {
    const piped = await run(['secret', 'set', 'API_KEY'], { stdin: `${VALUES[0]}\n` });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'Created secret API_KEY (version 1)\n');
    await writeFile(join(dir, 'key.pem'), `${VALUES[1]}\n`);
    const file = await run(['secret', 'set', 'FILE_KEY', '--from-file', 'key.pem', '--json']);
    assert.equal(file.code, 0, file.stderr);
    assert.equal(JSON.parse(file.stdout).name, 'FILE_KEY');

    const deployed = await run(['deploy', 'show.js', '--name', 'show', '--secret', 'API_KEY', '--secret', 'FILE_KEY']);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.deepEqual(await env(), { api: VALUES[0], file: `${VALUES[1]}\n` });
    const got = await run(['get', 'show']);
    assert.match(got.stdout, /^secrets: +API_KEY, FILE_KEY$/m);
  });

  it('on a terminal, set prompts on stderr and reads a line without echo', async () => {
    const io = memoryIO({ cwd: dir, stdin: `${VALUES[2]}x\u007f\r`, env: { NIMBUS_TOKEN: platform.token } });
    io.stdinIsTTY = true;
    assert.equal(await runCli(['secret', 'set', 'TYPED', '--url', platform.url], io), 0, io.stderrText());
    outputs.push(io.stdoutText(), io.stderrText());
    assert.equal(io.stderrText(), 'Value for TYPED (input hidden): \n');
    await run(['deploy', 'show.js', '--name', 'typed', '--secret', 'TYPED']);
    await writeTree(dir, { 'typed.js': 'export default () => new Response(process.env.TYPED);\n' });
    await run(['deploy', 'typed.js', '--name', 'typed']);
    assert.equal((await invoke(platform.url, 'typed')).text, VALUES[2], 'backspace removed the x');
  });

  it('replacing a value says which functions restart', async () => {
    const r = await run(['secret', 'set', 'API_KEY'], { stdin: VALUES[3] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Updated secret API_KEY (version 2)\nInstances of show restart to use the new value.\n');
    assert.equal((await env()).api, VALUES[3]);
  });

  it('ls lists names, versions and users; never values', async () => {
    const r = await run(['secret', 'ls']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME +VERSION +USED BY +UPDATED$/);
    assert.match(lines[1]!, /^API_KEY +2 +show +(just now|\d+s ago)$/);
    assert.match(lines[2]!, /^FILE_KEY +1 +show +/);
    assert.match(lines[3]!, /^TYPED +1 +typed +/);
    const json = JSON.parse((await run(['secret', 'list', '--json'])).stdout) as Array<{ name: string; functions: string[] }>;
    assert.deepEqual(json.map((s) => [s.name, s.functions]), [['API_KEY', ['show']], ['FILE_KEY', ['show']], ['TYPED', ['typed']]]);
  });

  it('rm is refused while a function uses the secret; --no-secrets drops them, then rm works', async () => {
    const refused = await run(['secret', 'rm', 'FILE_KEY']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error \[SECRET_IN_USE\]: The secret FILE_KEY is used by show\./);
    const dropped = await run(['deploy', 'show.js', '--name', 'show', '--no-secrets']);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.deepEqual(await env(), { api: null, file: null });
    const removed = await run(['secret', 'remove', 'FILE_KEY']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'Removed secret FILE_KEY\n');
    const missing = await run(['secret', 'rm', 'FILE_KEY']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error \[SECRET_NOT_FOUND\]: No secret named FILE_KEY exists/);
  });

  it('deploy with an unknown secret is refused by the platform, naming it', async () => {
    const r = await run(['deploy', 'show.js', '--name', 'show', '--secret', 'NEVER_SET']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error \[UNKNOWN_SECRET\]: secrets: no secret named NEVER_SET exists\. Set it first with: nimbus secret set NEVER_SET$/m);
  });

  it('bad names, empty values and conflicting flags are refused before anything is sent', async () => {
    const usage: Array<[string[], RegExp]> = [
      [['secret', 'set', 'lower'], /invalid secret name: use 1-128 upper-case letters/],
      [['secret', 'set', 'NIMBUS_X'], /names starting with NIMBUS_ are reserved/],
      [['secret', 'rm', 'a-b'], /invalid secret name/],
      [['deploy', 'show.js', '--name', 'show', '--secret', 'x y'], /invalid secret name/],
      [['deploy', 'show.js', '--name', 'show', '--secret', 'API_KEY', '--no-secrets'], /cannot be used with/],
    ];
    for (const [args, message] of usage) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const empty = await run(['secret', 'set', 'EMPTY'], { stdin: '\n' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /The value for EMPTY is empty/);
    const noFile = await run(['secret', 'set', 'EMPTY', '--from-file', 'nope.txt']);
    assert.equal(noFile.code, 1);
    assert.equal(noFile.stderr, 'Error: No such file: nope.txt\n');
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(64 * 1024 + 1, 'a'));
    const big = await run(['secret', 'set', 'BIG', '--from-file', 'big.bin']);
    assert.equal(big.code, 1);
    assert.match(big.stderr, /at most 65536 bytes/);
    const list = JSON.parse((await run(['secret', 'ls', '--json'])).stdout) as Array<{ name: string }>;
    assert.deepEqual(list.map((s) => s.name), ['API_KEY', 'TYPED']);
  });

  it('help', async () => {
    for (const cmd of [['secret'], ['secret', 'set'], ['secret', 'ls'], ['secret', 'rm']]) {
      const r = await runInProcess([...cmd, '--help']);
      assert.equal(r.code, 0, cmd.join(' '));
      assert.match(r.stdout, new RegExp(`Usage: nimbus ${cmd.join(' ')}`));
      assert.match(r.stdout, /Examples:\n {2}\$ nimbus secret set DB_PASSWORD/);
    }
  });

  it('no command output ever showed a value', () => {
    for (const value of VALUES) assert.ok(!outputs.some((o) => o.includes(value)), value);
  });
});

describe('readHiddenLine', () => {
  /** A fake terminal: records raw-mode switches; bytes are pushed as typed. */
  function terminal() {
    const input = new PassThrough() as PassThrough & { setRawMode(raw: boolean): void; modes: boolean[] };
    input.modes = [];
    input.setRawMode = (raw: boolean) => void input.modes.push(raw);
    let shown = '';
    const output = new Writable({
      write(chunk: Buffer, _enc, done) {
        shown += chunk.toString();
        done();
      },
    });
    return { input, output, shown: () => shown };
  }

  it('reads up to Enter without echo, in raw mode; backspace deletes; arrow keys are ignored', async () => {
    const t = terminal();
    const line = readHiddenLine(t.input, t.output, 'Value: ');
    t.input.write('sé');
    t.input.write('\u001b[D');
    t.input.write('cx\u007f');
    t.input.write('ret\rignored');
    assert.equal(await line, 'sécret');
    assert.equal(t.shown(), 'Value: \n');
    assert.deepEqual(t.input.modes, [true, false]);
  });

  it('Ctrl-C cancels with exit code 130 and restores the terminal', async () => {
    const t = terminal();
    const line = readHiddenLine(t.input, t.output, 'Value: ');
    t.input.write('abc\u0003');
    await assert.rejects(line, (err: Error & { exitCode?: number }) => err.message === 'Cancelled.' && err.exitCode === 130);
    assert.deepEqual(t.input.modes, [true, false]);
  });
});
