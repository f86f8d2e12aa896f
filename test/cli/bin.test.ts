import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../integration/harness.js';

test('the nimbus bin runs as an executable (shebang and exec bit), as npx and npm link run it', () => {
  const out = execFileSync(join(ROOT, 'dist/src/cli/main.js'), ['--help'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).toString();
  assert.match(out, /^Usage: nimbus/m);
});
