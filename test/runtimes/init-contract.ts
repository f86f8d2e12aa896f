import assert from 'node:assert/strict';
import type { RuntimeName } from '../../src/core/spec.js';
import { startShim } from './shim-harness.js';

/** An init that must fail, with the code and message the shim must answer. */
export interface FailingInit {
  entry: string;
  export?: string;
  code: string;
  message: RegExp;
}

/**
 * The runtime protocol's init rules, the same for every shim: invocations before init get 503
 * NOT_INITIALISED; a failing init answers 500 with its code; health reports initialisation; a
 * second init is refused with 409.
 */
export async function checkInitContract(runtime: RuntimeName, codeDir: string, failing: FailingInit[], goodEntry: string): Promise<void> {
  for (const { code, message, ...init } of failing) {
    const shim = await startShim(runtime);
    try {
      const before = await shim.request({ path: '/anything' });
      assert.equal(before.status, 503);
      assert.equal(before.json().error.code, 'NOT_INITIALISED');
      const res = await shim.init({ codeDir, ...init });
      assert.equal(res.status, 500, `${init.entry}: ${res.body.toString()}`);
      assert.equal(res.json().error.code, code);
      assert.match(res.json().error.message, message);
    } finally {
      await shim.stop();
    }
  }
  const shim = await startShim(runtime);
  try {
    assert.deepEqual((await shim.request({ path: '/__nimbus/health' })).json(), { inflight: 0, initialised: false });
    assert.equal((await shim.init({ codeDir, entry: goodEntry })).status, 200);
    assert.deepEqual((await shim.request({ path: '/__nimbus/health' })).json(), { inflight: 0, initialised: true });
    assert.equal((await shim.init({ codeDir, entry: goodEntry })).status, 409);
  } finally {
    await shim.stop();
  }
}
