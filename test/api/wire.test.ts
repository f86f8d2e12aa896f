/**
 * The wire module is what clients load: it must stay a leaf (no platform parts, no packages, no
 * Node built-ins), its request types must match what the server validates, and the CLI must reach
 * the platform only through it (plus the few commands that start the platform).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { type DeployRequest, INVOCATION_ID_HEADER } from '../../src/api/wire.js';
import { INVOCATION_ID_HEADER as RUNTIME_INVOCATION_ID_HEADER } from '../../src/core/runtime-protocol.js';
import type { functionConfigSchema } from '../../src/core/spec.js';

/** dist/src, where the compiled modules are. */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

// Compile-time: the documented deploy body and the schema the server parses it with are the same
// type; the build fails when one changes without the other.
// (Same keys, and each assignable to the other: mutual assignability alone lets an optional field
// exist on one side only.)
type Assignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Same<A, B> = Assignable<A, B> extends true ? Assignable<keyof A, keyof B> : false;
const deployRequestMatchesSchema: Same<DeployRequest, z.input<typeof functionConfigSchema>> = true;

/** Specifiers a compiled module imports: static imports and re-exports, and dynamic import()s apart. */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const code = readFileSync(file, 'utf8');
  const statics = [...code.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'|^import\s+'([^']+)'/gm)].map((m) => m[1] ?? m[2] ?? '');
  const dynamic = [...code.matchAll(/\bimport\('([^']+)'\)/g)].map((m) => m[1] ?? '');
  return { static: statics, dynamic };
}

/** Every module reached from `entry` by static imports: src files (relative to src) and external specifiers. */
function staticGraph(entry: string): { files: Set<string>; external: Set<string>; dynamic: Map<string, string[]> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const dynamic = new Map<string, string[]>();
  const visit = (file: string): void => {
    const rel = relative(SRC, file);
    if (files.has(rel)) return;
    files.add(rel);
    const { static: statics, dynamic: dynamics } = importsOf(file);
    if (dynamics.length > 0) dynamic.set(rel, dynamics.map((d) => (d.startsWith('.') ? relative(SRC, join(dirname(file), d)) : d)));
    for (const spec of statics) {
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
      else external.add(spec);
    }
  };
  visit(join(SRC, entry));
  return { files, external, dynamic };
}

describe('wire types', () => {
  test('the deploy body type is the schema the server validates', () => {
    assert.equal(deployRequestMatchesSchema, true);
  });

  test('the invocation-id header the API names is the one the runtime shims use', () => {
    assert.equal(INVOCATION_ID_HEADER, RUNTIME_INVOCATION_ID_HEADER);
  });

  test('wire.ts is a leaf: it loads no platform part, no package and no Node built-in', () => {
    const { files, external } = staticGraph('api/wire.js');
    assert.deepEqual([...external], []);
    assert.deepEqual([...files].sort(), ['api/wire.js', 'core/duration.js', 'core/errors.js', 'core/scope.js', 'core/secret-rules.js']);
  });

  test('the CLI reaches the platform only through the wire types and the start-up defaults', () => {
    const { files, dynamic } = staticGraph('cli/main.js');
    const outside = [...files].filter((f) => !f.startsWith('cli/')).sort();
    assert.deepEqual(outside, [
      // The HTTP API's types and rules.
      'api/wire.js',
      // Where `nimbus up` listens and keeps its state by default (pure constants).
      'config/server-defaults.js',
      'core/duration.js',
      'core/errors.js',
      // isLoopbackHost: the local admin token is only ever sent to this machine.
      'core/invoke-auth.js',
      'core/scope.js',
      'core/secret-rules.js',
      'packages/types.js',
      'sandbox/modes.js',
      // Writes the login config 0600 (knows nothing of the platform).
      'util/private-file.js',
    ]);
    // Commands that run the platform in this process load it when they run, and only then.
    const started = [...dynamic.entries()].flatMap(([from, targets]) => targets.filter((t) => !t.startsWith('cli/') && t !== 'pino').map((t) => `${from} -> ${t}`));
    assert.deepEqual(started.sort(), ['cli/commands/dev.js -> server.js', 'cli/commands/doctor.js -> host-report.js', 'cli/commands/up.js -> server.js']);
  });
});
