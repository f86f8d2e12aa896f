import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { NETNS_EXEC_SCRIPT } from '../../src/sandbox/netns-exec.js';

test('the namespace script compiles without a warning (they would end up in every error message about the network)', (t) => {
  if (!existsSync('/usr/bin/perl')) {
    if (process.env.CI) throw new Error('perl must be installed under CI');
    return t.skip('perl is not installed');
  }
  const result = spawnSync('/usr/bin/perl', ['-c', '-e', NETNS_EXEC_SCRIPT], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr.trim(), '-e syntax OK');
});
