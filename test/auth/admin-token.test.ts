import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { api, startPlatform } from '../integration/harness.js';

const TOKEN_FILE = /^nmb_[A-Za-z0-9_-]{43}\n$/;

describe('the admin token file', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const dataDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nimbus-admin-'));
    dirs.push(dir);
    return dir;
  };

  it('is created at first start with mode 0600 (whatever the umask), and opens the API', async () => {
    const dir = await dataDir();
    const previous = process.umask(0);
    let platform;
    try {
      platform = await startPlatform({ dataDir: dir, keepData: true });
    } finally {
      process.umask(previous);
    }
    try {
      const file = join(dir, 'admin.token');
      assert.equal(platform.server.adminTokenFile, file);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const text = await readFile(file, 'utf8');
      assert.match(text, TOKEN_FILE);
      assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.tmp')), [], 'no temporary file is left');
      const me = await api(platform.url, 'GET', '/api/v1/whoami', undefined, { token: text.trim() });
      assert.equal(me.status, 200);
      assert.deepEqual({ name: me.json!.name, scope: me.json!.scope }, { name: 'admin.token', scope: 'admin' });
    } finally {
      await platform.close();
    }
  });

  it('is reused on restart, and registered again when the database was deleted', async () => {
    const dir = await dataDir();
    const first = await startPlatform({ dataDir: dir, keepData: true });
    const token = first.token;
    await first.close();

    const second = await startPlatform({ dataDir: dir, keepData: true });
    try {
      assert.equal(second.token, token, 'same file content');
      assert.equal((await api(second.url, 'GET', '/api/v1/tokens')).json!.tokens.length, 1, 'no second admin token');
    } finally {
      await second.close();
    }

    for (const file of await readdir(dir)) if (file.startsWith('nimbus.db')) await rm(join(dir, file));
    const third = await startPlatform({ dataDir: dir, keepData: true });
    try {
      assert.equal(third.token, token);
      assert.equal((await api(third.url, 'GET', '/api/v1/functions', undefined, { token })).status, 200);
    } finally {
      await third.close();
    }
  });

  it('is replaced by a new token at the next start once revoked', async () => {
    const dir = await dataDir();
    const first = await startPlatform({ dataDir: dir, keepData: true });
    const [admin] = (await api(first.url, 'GET', '/api/v1/tokens')).json!.tokens as Array<{ id: string }>;
    assert.equal((await api(first.url, 'DELETE', `/api/v1/tokens/${admin!.id}`)).status, 204);
    assert.equal((await api(first.url, 'GET', '/api/v1/functions', undefined, { token: first.token })).json!.error.code, 'INVALID_TOKEN');
    await first.close();

    const second = await startPlatform({ dataDir: dir, keepData: true });
    try {
      assert.notEqual(second.token, first.token);
      assert.equal((await stat(join(dir, 'admin.token'))).mode & 0o777, 0o600);
      assert.equal((await api(second.url, 'GET', '/api/v1/functions')).status, 200);
      const tokens = (await api(second.url, 'GET', '/api/v1/tokens')).json!.tokens as Array<{ revoked: boolean }>;
      assert.deepEqual(tokens.map((t) => t.revoked), [true, false]);
    } finally {
      await second.close();
    }
  });

  it('a file that holds no token stops the start and is left as it is', async () => {
    const dir = await dataDir();
    await writeFile(join(dir, 'admin.token'), 'password123\n');
    await assert.rejects(startPlatform({ dataDir: dir, keepData: true }), /admin\.token does not hold a Nimbus token/);
    assert.equal(await readFile(join(dir, 'admin.token'), 'utf8'), 'password123\n');
  });
});
