/**
 * The contract every instance provider passes (local processes, in-process test servers, later
 * Kubernetes pods): what the instance manager and the invoker rely on, and nothing about how the
 * provider does it.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import type { InstanceProvider } from '../../src/providers/types.js';
import { HEALTH_PATH } from '../../src/core/runtime-protocol.js';
import type { FunctionRecord } from '../../src/store/types.js';

/** What a contract run needs from the provider under test. */
export interface ProviderFixture {
  /** A fresh provider (each test gets its own). */
  provider(): InstanceProvider;
  /** A function whose handler answers `GET /` with status 200 and the body `hello`. */
  hello: FunctionRecord;
  /** A function whose handler cannot load. */
  broken: FunctionRecord;
  /** Removes what the fixture made. */
  cleanup?(): Promise<void>;
}

async function get(instance: { dispatcher: import('undici').Dispatcher }, path: string): Promise<{ status: number; body: string }> {
  const res = await instance.dispatcher.request({ path, method: 'GET' });
  return { status: res.statusCode, body: await res.body.text() };
}

export function providerContract(name: string, make: () => Promise<ProviderFixture | undefined>): void {
  describe(`instance provider contract: ${name}`, async () => {
    const fixture = await make();
    const providers: InstanceProvider[] = [];
    const fresh = () => {
      const provider = fixture!.provider();
      providers.push(provider);
      return provider;
    };
    after(async () => {
      await Promise.all(providers.map((p) => p.shutdown()));
      await fixture?.cleanup?.();
    });

    test('start resolves with a ready instance: it answers its health check and invocations', { skip: !fixture }, async () => {
      const provider = fresh();
      const instance = await provider.start(fixture!.hello);
      assert.equal(typeof instance.id, 'string');
      assert.ok(instance.startMs >= 0);
      assert.equal((await get(instance, HEALTH_PATH)).status, 200);
      assert.deepEqual(await get(instance, '/'), { status: 200, body: 'hello' });
      await instance.stop();
    });

    test('list shows running instances by function; a stopped one leaves the list once it has exited', { skip: !fixture }, async () => {
      const provider = fresh();
      const [a, b] = await Promise.all([provider.start(fixture!.hello), provider.start(fixture!.hello)]);
      assert.notEqual(a.id, b.id);
      assert.deepEqual(new Set(provider.list(fixture!.hello.spec.name).map((i) => i.id)), new Set([a.id, b.id]));
      assert.equal(provider.list('no-such-function').length, 0);
      await a.stop();
      await a.exited;
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(provider.list().map((i) => i.id), [b.id]);
      await b.stop();
    });

    test('kill ends an instance at once; exited resolves and the reason is told when the provider can', { skip: !fixture }, async () => {
      const provider = fresh();
      const instance = await provider.start(fixture!.hello);
      assert.equal(instance.exitReason?.(), undefined, 'no exit reason while it runs');
      instance.kill();
      await instance.exited;
      if (instance.exitReason) assert.equal(typeof instance.exitReason(), 'string');
      await assert.rejects(get(instance, '/'));
    });

    test('a handler that cannot load fails the start with FUNCTION_START_FAILED and leaves nothing running', { skip: !fixture }, async () => {
      const provider = fresh();
      await assert.rejects(provider.start(fixture!.broken), (err) => isNimbusError(err) && err.code === 'FUNCTION_START_FAILED');
      assert.equal(provider.list().length, 0);
    });

    test('check starts and stops a short-lived instance, and refuses code that cannot load', { skip: !fixture }, async () => {
      const provider = fresh();
      if (!provider.check) return;
      await provider.check(fixture!.hello);
      assert.equal(provider.list().length, 0, 'the checked instance is gone');
      await assert.rejects(provider.check(fixture!.broken), (err) => isNimbusError(err) && err.code === 'FUNCTION_START_FAILED');
    });

    test('shutdown stops every instance, waits for starts under way, and later starts fail with SHUTTING_DOWN', { skip: !fixture }, async () => {
      const provider = fresh();
      const running = await provider.start(fixture!.hello);
      const starting = provider.start(fixture!.hello).then(
        (instance) => instance,
        (err: unknown) => err,
      );
      await provider.shutdown();
      await running.exited;
      const late = await starting;
      // A start under way either failed with SHUTTING_DOWN or finished before and was stopped.
      if (isNimbusError(late)) assert.equal(late.code, 'SHUTTING_DOWN');
      else await (late as { exited: Promise<unknown> }).exited;
      assert.equal(provider.list().length, 0);
      await assert.rejects(provider.start(fixture!.hello), (err) => isNimbusError(err) && err.code === 'SHUTTING_DOWN');
    });
  });
}
