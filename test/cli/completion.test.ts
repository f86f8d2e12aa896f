import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { runInProcess } from './helpers.js';

/** What the bash completion offers after typing `words` (the last one being completed). */
function bashComplete(script: string, words: string[]): string[] {
  const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nimbus_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

test('bash completion: commands, sub-commands, flags and flag choices, from the program itself', async () => {
  const { code, stdout } = await runInProcess(['completion', 'bash']);
  assert.equal(code, 0);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'de']), ['deploy', 'dev']);
  assert.ok(bashComplete(stdout, ['nimbus', '']).includes('completion'));
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'deploy', '--runtime', '']), ['node', 'python', 'exec']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'deploy', './app', '--prot']), ['--protocol']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'secret', 's']), ['set']);
  assert.ok(bashComplete(stdout, ['nimbus', 'secret', 'set', '--']).includes('--from-file'));
});

test('bash completion of the async commands: invoke --async/--wait, invocations, dlq', async () => {
  const { stdout } = await runInProcess(['completion', 'bash']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'invoke', 'hello', '--as']), ['--async']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'invoke', 'hello', '--wa']), ['--wait']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'invoke', 'hello', '--idem']), ['--idempotency-key']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'invocations', '']).filter((w) => !w.startsWith('-')), ['ls', 'get']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'invocations', 'ls', '--status', '']), ['queued', 'running', 'retrying', 'succeeded', 'failed', 'dead']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'invocations', 'get', 'x', '--b']), ['--body']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'dlq', '']).filter((w) => !w.startsWith('-')), ['ls', 'redrive', 'purge']);
  assert.deepEqual(bashComplete(stdout, ['nimbus', 'dlq', 'redrive', 'fn', '--']).sort(), ['--all', '--id', '--json', '--token', '--url', '--version']);
  assert.ok(bashComplete(stdout, ['nimbus', 'dlq', 'purge', 'fn', '--']).includes('--yes'));
});

test('zsh uses the bash script through bashcompinit; fish gets its own complete lines', async () => {
  const zsh = await runInProcess(['completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef nimbus\n/);
  assert.match(zsh.stdout, /bashcompinit/);
  const fish = await runInProcess(['completion', 'fish']);
  assert.match(fish.stdout, /^complete -c nimbus -n '__fish_use_subcommand' -a deploy -d 'deploy a file or folder as a function'$/m);
  assert.match(fish.stdout, /^complete -c nimbus -n '__fish_seen_subcommand_from deploy' -l runtime -s r -x -a 'node python exec' -d /m);
  assert.equal((await runInProcess(['completion', 'tcsh'])).code, 2);
});
