import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UidPool } from '../../src/sandbox/uid-pool.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const claimDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-uids-'));
  dirs.push(dir);
  return dir;
};

test('hands out distinct uids, claims each with a file holding our pid, and takes them back', () => {
  const dir = claimDir();
  const pool = new UidPool({ first: 5000, count: 3 }, dir);
  const uids = [pool.acquire(), pool.acquire(), pool.acquire()];
  assert.deepEqual([...uids].sort(), [5000, 5001, 5002]);
  assert.deepEqual(readdirSync(dir).sort(), ['5000', '5001', '5002']);
  assert.equal(readFileSync(join(dir, '5001'), 'utf8'), String(process.pid));
  assert.throws(() => pool.acquire(), /all 3 instance uids from 5000 are in use/);
  pool.release(5001);
  assert.deepEqual(readdirSync(dir).sort(), ['5000', '5002']);
  assert.equal(pool.acquire(), 5001);
  assert.equal(pool.inUse, 3);
});

test('two pools on one host (two platforms) never share a uid', () => {
  const dir = claimDir();
  const a = new UidPool({ first: 7000, count: 4 }, dir);
  const b = new UidPool({ first: 7000, count: 4 }, dir);
  const taken = [a.acquire(), b.acquire(), a.acquire(), b.acquire()];
  assert.equal(new Set(taken).size, 4);
  assert.throws(() => b.acquire(), /in use/);
  a.release(taken[0]!);
  assert.equal(b.acquire(), taken[0]);
});

test('claims of a platform that died are taken over; those of a live one are not', () => {
  const dir = claimDir();
  writeFileSync(join(dir, '9000'), '4242424'); // a pid that is gone
  writeFileSync(join(dir, '9001'), '1'); // a live process
  const alive = (pid: number) => pid === 1;
  const pool = new UidPool({ first: 9000, count: 2 }, dir, alive);
  assert.equal(pool.acquire(), 9000);
  assert.equal(readFileSync(join(dir, '9000'), 'utf8'), String(process.pid));
  assert.throws(() => pool.acquire(), /in use/);
});
