import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { subordinateRange } from '../../src/sandbox/subid-ranges.js';
import { findSubordinateIds, MIN_SUBORDINATE_IDS } from '../../src/sandbox/subuid-users.js';
import { planInstanceUsers } from '../../src/sandbox/user-plan.js';

const dir = mkdtempSync(join(tmpdir(), 'nimbus-subid-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the largest range a user holds, named by login or by uid; other users and bad lines are ignored', () => {
  const text = ['alice:100000:65536', 'bob:165536:65536', '1003:231072:131072', 'alice:300000:10', 'alice:x:5', 'alice:5:-1', '', '# comment'].join('\n');
  assert.deepEqual(subordinateRange(text, { name: 'alice', id: 1001 }), { first: 100000, count: 65536 });
  assert.deepEqual(subordinateRange(text, { name: 'carol', id: 1003 }), { first: 231072, count: 131072 });
  assert.equal(subordinateRange(text, { name: 'dave', id: 1004 }), undefined);
});

/** findSubordinateIds with these files and programs (this process's user is the one looked up). */
function find(subuid: string, subgid: string, missing: string[] = []) {
  const files = { subuid: join(dir, `subuid-${Math.random()}`), subgid: join(dir, `subgid-${Math.random()}`) };
  writeFileSync(files.subuid, subuid);
  writeFileSync(files.subgid, subgid);
  return findSubordinateIds((name) => (missing.includes(name) ? undefined : `/usr/bin/${name}`), files);
}

const me = userInfo().username;

test('uses the ranges of /etc/subuid and /etc/subgid, as many of each, at most 65536', () => {
  const { ids, problem } = find(`${me}:100000:200000\n`, `${me}:500000:70000\n`);
  assert.equal(problem, undefined);
  assert.deepEqual(ids!.uids, { first: 100000, count: 65536 });
  assert.deepEqual(ids!.gids, { first: 500000, count: 65536 });
  assert.equal(ids!.owner.uid, process.getuid!());
  assert.equal(ids!.tools.newuidmap, '/usr/bin/newuidmap');
});

test('says why not, with what to do: uidmap missing, no entry, a range too small', () => {
  assert.equal(find(`${me}:100000:65536\n`, `${me}:100000:65536\n`, ['newuidmap']).problem, 'newuidmap is not installed (Debian/Ubuntu: apt-get install uidmap)');
  assert.match(find('someone:100000:65536\n', `${me}:100000:65536\n`).problem!, new RegExp(`^${me} has no subordinate uids in .*subuid-.* \\(sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${me}\\)$`));
  assert.match(find(`${me}:100000:65536\n`, '').problem!, new RegExp(`^${me} has no subordinate gids in `));
  assert.match(find(`${me}:100000:65536\n`, `${me}:100000:${MIN_SUBORDINATE_IDS - 1}\n`).problem!, new RegExp(`hold ${MIN_SUBORDINATE_IDS - 1}, fewer than the ${MIN_SUBORDINATE_IDS} instances may need$`));
  assert.match(find(`${me}:100000:65536\n`, `${me}:100000:65536\n`, ['perl']).problem!, /^perl not found/);
});

test('the plan: a uid of the reserved range as root; subordinate uids otherwise, except with cgroup v1 (with why)', () => {
  const files = { subuid: join(dir, 'plan-subuid'), subgid: join(dir, 'plan-subgid') };
  writeFileSync(files.subuid, `${me}:100000:65536\n`);
  writeFileSync(files.subgid, `${me}:100000:65536\n`);
  const found = (name: string) => `/usr/bin/${name}`;
  assert.equal(planInstanceUsers(found, true).kind, 'host');
  assert.equal(planInstanceUsers(found, false, 'v2', files).kind, 'subordinate');
  assert.equal(planInstanceUsers(found, false, undefined, files).kind, 'subordinate');
  const v1 = planInstanceUsers(found, false, 'v1', files);
  assert.equal(v1.kind, 'shared');
  assert.match(v1.kind === 'shared' ? v1.reason : '', /cgroups are v1, where it could move no process of another uid/);
  assert.deepEqual(planInstanceUsers(() => undefined, false, 'v2', files), { kind: 'shared', reason: 'newuidmap is not installed (Debian/Ubuntu: apt-get install uidmap)' });
});
