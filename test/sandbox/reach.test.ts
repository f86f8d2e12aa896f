import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { blockedDirectoryOnPath } from '../../src/sandbox/reach.js';

const root = mkdtempSync(join(tmpdir(), 'nimbus-reach-'));
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));
const NOBODY = 65534;

test('names the first folder another user cannot enter, with its mode', () => {
  mkdirSync(join(root, 'open', 'closed', 'deeper'), { recursive: true });
  chmodSync(join(root, 'open'), 0o755);
  chmodSync(join(root, 'open', 'closed'), 0o700);
  chmodSync(join(root, 'open', 'closed', 'deeper'), 0o700);
  const file = join(root, 'open', 'closed', 'deeper', 'node');
  writeFileSync(file, '');
  assert.deepEqual(blockedDirectoryOnPath(file, NOBODY, NOBODY), { dir: join(root, 'open', 'closed'), mode: 0o700 });
  assert.equal(blockedDirectoryOnPath(join(root, 'open', 'x'), NOBODY, NOBODY), undefined);
  assert.equal(blockedDirectoryOnPath(file, 0, 0), undefined, 'root passes everywhere');
  // Search permission for others only (0711) is enough to pass.
  chmodSync(join(root, 'open', 'closed'), 0o711);
  assert.deepEqual(blockedDirectoryOnPath(file, NOBODY, NOBODY), { dir: join(root, 'open', 'closed', 'deeper'), mode: 0o700 });
});

test('the owner bits apply to the folder owner, the group bits to its group', { skip: process.getuid?.() !== 0 && process.env.CI !== 'true' && 'needs root to chown (runs, and fails, under CI=true)' }, () => {
  const dir = join(root, 'owned');
  mkdirSync(join(dir, 'in'), { recursive: true });
  chownSync(dir, NOBODY, 0);
  chmodSync(dir, 0o700);
  assert.equal(blockedDirectoryOnPath(join(dir, 'in', 'f'), NOBODY, NOBODY), undefined);
  assert.deepEqual(blockedDirectoryOnPath(join(dir, 'in', 'f'), NOBODY + 1, NOBODY + 1), { dir, mode: 0o700 });
  chownSync(dir, 0, NOBODY);
  chmodSync(dir, 0o710);
  assert.equal(blockedDirectoryOnPath(join(dir, 'in', 'f'), NOBODY + 1, NOBODY), undefined);
  assert.deepEqual(blockedDirectoryOnPath(join(dir, 'in', 'f'), NOBODY + 1, NOBODY + 1), { dir, mode: 0o710 });
});
