import type { TestContext } from 'node:test';

/**
 * Whether a test that needs something of the host (root, bubblewrap, cgroups) can run. When it is
 * missing the test is skipped with the reason on a developer's machine, but fails under `CI`: a CI
 * host is set up to have all of them, and a skip there would hide that the sandbox was never tested.
 * @param problem why the host lacks it; undefined when it has it.
 */
export function hostHas(t: TestContext, what: string, problem: string | undefined): boolean {
  if (problem === undefined) return true;
  if (process.env['CI']) throw new Error(`${what} is required under CI, and missing here: ${problem}`);
  t.skip(`needs ${what}: ${problem}`);
  return false;
}
