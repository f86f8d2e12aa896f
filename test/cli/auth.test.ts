/**
 * The access control commands in-process against a real platform: login/logout and the config
 * file, where the CLI takes its token from, tokens, invoke keys, and the hints on refusals.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, startPlatform, type TestPlatform } from '../integration/harness.js';
import { removeDir, runInProcess, tempDir, writeTree } from './helpers.js';

const ECHO = 'export default (req) => Response.json(Object.fromEntries(req.headers))\n';

let platform: TestPlatform;
let other: TestPlatform;
let dir: string;
let configHome: string;

/** The CLI with only the given environment: no token unless the test gives one. */
const nimbus = (args: string[], env: Record<string, string> = {}, options: { cwd?: string; stdin?: string } = {}) =>
  runInProcess(args, { cwd: options.cwd ?? dir, env: { XDG_CONFIG_HOME: configHome, ...env }, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) });
const admin = (args: string[]) => nimbus([...args, '--url', platform.url], { NIMBUS_TOKEN: platform.token });
const configFile = () => join(configHome, 'nimbus', 'config.json');

before(async () => {
  dir = await tempDir();
  configHome = join(dir, 'config');
  await writeTree(dir, { 'echo.js': ECHO, 'work/.keep': '' });
  // Started with the default data dir of `nimbus up` in dir/local, for the ./.nimbus fallback.
  platform = await startPlatform({ dataDir: join(dir, 'local', '.nimbus'), keepData: true });
  other = await startPlatform();
});
after(async () => {
  await platform?.close();
  await other?.close();
  if (dir) await removeDir(dir);
});

describe('nimbus login and logout', () => {
  it('checks the token, then saves url and token in a 0600 file', async () => {
    const r = await nimbus(['login', '--url', platform.url, '--token', platform.token]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Logged in to ${platform.url} as admin.token (scope admin).\nSaved to ${configFile()}\n`);
    assert.deepEqual(JSON.parse(await readFile(configFile(), 'utf8')), { url: platform.url, token: platform.token });
    assert.equal((await stat(configFile())).mode & 0o777, 0o600);
    assert.equal((await stat(join(configHome, 'nimbus'))).mode & 0o777, 0o700);

    // Later commands use it, for that URL, without --url or a token.
    const ls = await nimbus(['ls', '--json'], {}, { cwd: join(dir, 'work') });
    assert.equal(ls.code, 0, ls.stderr);
    // …but never send it to another platform.
    const elsewhere = await nimbus(['ls', '--url', other.url], {}, { cwd: join(dir, 'work') });
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /^Error \[UNAUTHENTICATED\]/m, 'no token was sent');
    // --token and NIMBUS_TOKEN win over the saved one.
    const bad = `nmb_${'B'.repeat(43)}`;
    assert.match((await nimbus(['ls'], { NIMBUS_TOKEN: bad })).stderr, /INVALID_TOKEN[\s\S]*the token in NIMBUS_TOKEN/);
    assert.match((await nimbus(['ls', '--token', bad])).stderr, /INVALID_TOKEN[\s\S]*the token given with --token/);

    const out = await nimbus(['logout']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `Logged out: removed ${configFile()}\n`);
    await assert.rejects(stat(configFile()));
    assert.equal((await nimbus(['logout'])).stdout, 'Not logged in: there is no saved token.\n');
  });

  it('reads the token from stdin when --token is not given', async () => {
    const r = await nimbus(['login', '--url', platform.url], {}, { stdin: `${platform.token}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(await readFile(configFile(), 'utf8')).token, platform.token);
    await nimbus(['logout']);
  });

  it('saves nothing when the platform refuses the token, or when there is none', async () => {
    const refused = await nimbus(['login', '--url', platform.url, '--token', `nmb_${'C'.repeat(43)}`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused this token \[INVALID_TOKEN\].*Nothing was saved\./);
    const empty = await nimbus(['login', '--url', platform.url], {}, { stdin: '' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /No token given/);
    await assert.rejects(stat(configFile()));
  });

  it('a damaged config file is reported with how to fix it', async () => {
    await mkdir(join(configHome, 'nimbus'), { recursive: true });
    await writeFile(configFile(), '{oops');
    const r = await nimbus(['ls', '--url', platform.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a Nimbus config .*nimbus logout/);
    assert.equal((await nimbus(['logout'])).code, 0);
  });
});

describe('where the token comes from without login', () => {
  it('a local platform started in this folder: ./.nimbus/admin.token', async () => {
    const r = await nimbus(['ls', '--json', '--url', platform.url], {}, { cwd: join(dir, 'local') });
    assert.equal(r.code, 0, r.stderr);
  });

  it('nothing found: 401 with where the admin token is and how to log in', async () => {
    const r = await nimbus(['ls', '--url', platform.url], {}, { cwd: join(dir, 'work') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error \[UNAUTHENTICATED\]: /m);
    assert.match(r.stderr, /The admin token is in <data-dir>\/admin\.token on the machine running Nimbus\.\n/);
    assert.match(r.stderr, /^Run the command in the folder where `nimbus up` was started \(it reads \.nimbus\/admin\.token there\)/m);
    assert.match(r.stderr, new RegExp(`save a token once with: nimbus login --url ${platform.url} < <data-dir>/admin\\.token$`, 'm'));
  });
});

describe('nimbus tokens', () => {
  it('create prints the value once; ls lists without values; revoke refuses it from then on', async () => {
    const created = await admin(['tokens', 'create', 'ci', '--scope', 'deploy']);
    assert.equal(created.code, 0, created.stderr);
    const [summary, value] = created.stdout.trimEnd().split('\n');
    assert.match(summary!, /^Created token ci \(id (tok_[0-9a-f]{12}), scope deploy\)\. It is shown only now:$/);
    assert.match(value!, /^nmb_[A-Za-z0-9_-]{43}$/);
    const id = /\(id (tok_[0-9a-f]{12})/.exec(summary!)![1]!;

    const asCi = (args: string[]) => nimbus([...args, '--url', platform.url], { NIMBUS_TOKEN: value! });
    assert.equal((await asCi(['ls'])).code, 0);
    const denied = await asCi(['tokens', 'ls']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^Error \[FORBIDDEN\]: .*needs a token with scope "admin"; this token \("ci"\) has scope "deploy"/m);

    const ls = await admin(['tokens', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^ID +NAME +SCOPE +CREATED +LAST USED +STATUS$/m);
    assert.match(ls.stdout, new RegExp(`^${id} +ci +deploy +just now +just now +active$`, 'm'));
    assert.ok(!ls.stdout.includes(value!));
    const json = await admin(['tokens', 'ls', '--json']);
    const list = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.ok(list.every((t) => !('token' in t) && !('hash' in t)));

    const revoked = await admin(['tokens', 'revoke', id]);
    assert.equal(revoked.stdout, `Revoked token ${id}\n`);
    const after = await asCi(['ls']);
    assert.equal(after.code, 1);
    assert.match(after.stderr, /^Error \[INVALID_TOKEN\]/m);
    assert.match((await admin(['tokens', 'ls'])).stdout, new RegExp(`^${id} .* revoked just now$`, 'm'));
    assert.match((await admin(['tokens', 'revoke', 'tok_nope'])).stderr, /TOKEN_NOT_FOUND/);
  });

  it('create --json has the value; --scope is required and checked', async () => {
    const r = await admin(['tokens', 'create', 'dash', '--scope', 'read', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const token = JSON.parse(r.stdout) as { token: string; scope: string };
    assert.equal(token.scope, 'read');
    assert.equal((await api(platform.url, 'GET', '/api/v1/whoami', undefined, { token: token.token })).json!.name, 'dash');
    assert.equal((await admin(['tokens', 'create', 'x'])).code, 2);
    assert.equal((await admin(['tokens', 'create', 'x', '--scope', 'root'])).code, 2);
  });
});

describe('invoke keys from the CLI', () => {
  it('deploy --auth key, keys create/ls/revoke, invoke --key', async () => {
    const deployed = await admin(['deploy', 'echo.js', '--name', 'guarded', '--auth', 'key']);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /^Callers need an invoke key \(create one with: nimbus keys create guarded\)$/m);
    assert.match((await admin(['get', 'guarded'])).stdout, /^auth: +key$/m);

    const without = await admin(['invoke', 'guarded']);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /^Error: HTTP 401 \[INVOKE_KEY_REQUIRED\]: /m);
    assert.match(without.stderr, /Pass a key of guarded with --key; create one with: nimbus keys create guarded/);

    const created = await admin(['keys', 'create', 'guarded', '--name', 'partner']);
    assert.equal(created.code, 0, created.stderr);
    const [summary, key] = created.stdout.trimEnd().split('\n');
    assert.match(summary!, /^Created key partner \(id key_[0-9a-f]{12}\) for guarded\. It is shown only now:$/);
    assert.match(key!, /^nmk_[A-Za-z0-9_-]{43}$/);
    const id = /\(id (key_[0-9a-f]{12})\)/.exec(summary!)![1]!;

    const ok = await admin(['invoke', 'guarded', '--key', key!]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as Record<string, string>)['x-nimbus-key'], undefined);
    const wrong = await admin(['invoke', 'guarded', '--key', 'nmk_wrong']);
    assert.match(wrong.stderr, /^Error: HTTP 403 \[INVOKE_KEY_INVALID\]/m);

    const ls = await admin(['keys', 'ls', 'guarded']);
    assert.match(ls.stdout, /^ID +NAME +CREATED +STATUS$/m);
    assert.match(ls.stdout, new RegExp(`^${id} +partner +just now +active$`, 'm'));
    assert.ok(!ls.stdout.includes(key!));
    assert.equal((await admin(['keys', 'revoke', 'guarded', id])).stdout, `Revoked key ${id} of guarded\n`);
    assert.equal((await admin(['invoke', 'guarded', '--key', key!])).code, 1);
    assert.match((await admin(['keys', 'ls', 'guarded'])).stdout, / revoked just now$/m);
  });

  it('a key for a public function comes with a note; a function without keys says how to make one', async () => {
    assert.equal((await admin(['deploy', 'echo.js', '--name', 'plain'])).code, 0);
    assert.equal((await admin(['keys', 'ls', 'plain'])).stdout, 'plain has no invoke keys. Create one with: nimbus keys create plain\n');
    const r = await admin(['keys', 'create', 'plain', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match((JSON.parse(r.stdout) as { key: string }).key, /^nmk_/);
    assert.match(r.stderr, /plain is public, so it does not ask for keys yet/);
    assert.equal((await admin(['keys', 'create', 'nope'])).code, 1);
  });
});
