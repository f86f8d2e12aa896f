import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KEY_FILE, loadSecretsKey } from '../../src/secrets/key.js';

describe('secrets key file', () => {
  let root: string;
  let n = 0;
  const dir = async () => {
    const d = join(root, `d${n++}`);
    await mkdir(d);
    return d;
  };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nimbus-key-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('first start creates a random 32-byte key, mode 0600, leaving no temp file; later starts read it', async () => {
    const d = await dir();
    const first = await loadSecretsKey(d);
    assert.equal(first.created, true);
    assert.equal(first.key.length, 32);
    assert.equal(first.readableByOthers, false);
    assert.equal((await stat(join(d, KEY_FILE))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(d), [KEY_FILE]);
    assert.match(await readFile(join(d, KEY_FILE), 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
    const again = await loadSecretsKey(d);
    assert.equal(again.created, false);
    assert.ok(again.key.equals(first.key));
    assert.ok(!(await loadSecretsKey(await dir())).key.equals(first.key), 'each data dir has its own key');
  });

  test('platforms starting together on one data dir agree on one key', async () => {
    const d = await dir();
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadSecretsKey(d)));
    assert.equal(keys.filter((k) => k.created).length, 1);
    for (const k of keys) assert.ok(k.key.equals(keys[0]!.key));
    assert.deepEqual(await readdir(d), [KEY_FILE]);
  });

  test('a malformed key file is refused with a message naming it, never replaced', async () => {
    for (const content of ['', 'short\n', `${Buffer.alloc(16).toString('base64')}\n`, `${'!'.repeat(44)}\n`]) {
      const d = await dir();
      await writeFile(join(d, KEY_FILE), content, { mode: 0o600 });
      await assert.rejects(loadSecretsKey(d), new RegExp(`${KEY_FILE} does not hold a secrets key`));
      assert.equal(await readFile(join(d, KEY_FILE), 'utf8'), content);
    }
  });

  test('a key file others can read is reported', async () => {
    const d = await dir();
    await loadSecretsKey(d);
    await chmod(join(d, KEY_FILE), 0o644);
    assert.equal((await loadSecretsKey(d)).readableByOthers, true);
  });
});
