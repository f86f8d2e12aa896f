import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const MODULE = pathToFileURL(new URL('../../src/sandbox/descriptors.js', import.meta.url).pathname).href;

describe('inherited descriptors', () => {
  test('a descriptor the platform was started with is found and masked with /dev/null in children', () => {
    // The child platform gets fd 30 without close-on-exec from a shell, as a supervisor might pass it.
    const script = `
      const { inheritableDescriptors, StdioPlan } = await import(${JSON.stringify(MODULE)});
      const { spawnSync } = await import('node:child_process');
      const found = inheritableDescriptors();
      const plan = new StdioPlan(found);
      const child = spawnSync('/bin/sh', ['-c', 'readlink /proc/self/fd/30 || echo closed'], { stdio: plan.stdio(['ignore', 'pipe', 'inherit']), encoding: 'utf8' });
      console.log(JSON.stringify({ found, target: child.stdout.trim() }));
    `;
    const result = spawnSync('/bin/bash', ['-c', 'exec "$0" --input-type=module -e "$1" 30</etc/hostname', process.execPath, script], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    const report = JSON.parse(result.stdout.trim()) as { found: number[]; target: string };
    assert.ok(report.found.includes(30), `found ${report.found}`);
    assert.equal(report.target, '/dev/null');
  });
});
