import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import type { BuildRef, Store } from '../../src/store/types.js';
import { authStoreContract } from './auth-contract.js';
import { sampleSpec, storeFixture } from './store-fixture.js';

function sampleBuild(buildId: string, exportName?: string): BuildRef {
  return { buildId, entry: '__nimbus_bundle.cjs', export: exportName };
}

/**
 * The behaviour every {@link Store} implementation must have. `open(dir)` must return a store
 * whose data lives in `dir`: opening the same dir again sees the same data.
 */
export function storeContract(name: string, open: (dir: string) => Promise<Store>): void {
  authStoreContract(name, open);
  describe(`Store contract: ${name}`, () => {
    const fresh = storeFixture(open, 'nimbus-store-');

    test('a new store is empty', async () => {
      const { store } = await fresh();
      assert.equal(await store.getFunction('hello'), undefined);
      assert.deepEqual(await store.listFunctions(), []);
      assert.deepEqual(await store.referencedBuilds(), new Set());
    });

    test('putFunction creates version 1 and getFunction returns it', async () => {
      const { store } = await fresh();
      const spec = sampleSpec('hello');
      const created = await store.putFunction(spec, sampleBuild('b1', 'handler'), 1000);
      assert.deepEqual(created, { spec, version: 1, build: sampleBuild('b1', 'handler'), createdAt: 1000, updatedAt: 1000 });
      assert.deepEqual(await store.getFunction('hello'), created);
    });

    test('each put makes a new version; createdAt stays, updatedAt moves', async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('hello'), sampleBuild('b1'), 1000);
      const second = await store.putFunction(sampleSpec('hello', { memoryMb: 512 }), sampleBuild('b2'), 2000);
      const third = await store.putFunction(sampleSpec('hello', { memoryMb: 1024 }), sampleBuild('b3'), 3000);
      assert.equal(second.version, 2);
      assert.equal(third.version, 3);
      const current = await store.getFunction('hello');
      assert.equal(current?.version, 3);
      assert.equal(current?.spec.memoryMb, 1024);
      assert.equal(current?.build.buildId, 'b3');
      assert.equal(current?.createdAt, 1000);
      assert.equal(current?.updatedAt, 3000);
    });

    test('without an export, put and get return the same record', async () => {
      const { store } = await fresh();
      const created = await store.putFunction(sampleSpec('web'), sampleBuild('b1'), 1);
      const got = await store.getFunction('web');
      assert.equal(got?.build.export, undefined);
      assert.deepEqual(got, created);
    });

    test('listFunctions returns the current version of each, ordered by name, without history', async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('zeta'), sampleBuild('z1'), 1);
      await store.putFunction(sampleSpec('alpha'), sampleBuild('a1'), 2);
      await store.putFunction(sampleSpec('mid'), sampleBuild('m1'), 3);
      await store.putFunction(sampleSpec('alpha', { handler: 'index.handler' }), sampleBuild('a2', 'handler'), 4);
      const list = await store.listFunctions();
      assert.deepEqual(
        list.map((r) => [r.spec.name, r.version, r.build.buildId]),
        [
          ['alpha', 2, 'a2'],
          ['mid', 1, 'm1'],
          ['zeta', 1, 'z1'],
        ],
      );
      assert.equal(list[0]?.spec.handler, 'index.handler');
    });

    test('referencedBuilds includes the builds of older versions', async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('one'), sampleBuild('b1'), 1);
      await store.putFunction(sampleSpec('one'), sampleBuild('b2'), 2);
      await store.putFunction(sampleSpec('two'), sampleBuild('b2'), 3);
      assert.deepEqual(await store.referencedBuilds(), new Set(['b1', 'b2']));
    });

    test('deleteFunction removes the function and its history', async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('gone'), sampleBuild('g1'), 1);
      await store.putFunction(sampleSpec('gone'), sampleBuild('g2'), 2);
      await store.putFunction(sampleSpec('kept'), sampleBuild('k1'), 3);
      assert.equal(await store.deleteFunction('gone'), true);
      assert.equal(await store.deleteFunction('gone'), false);
      assert.equal(await store.deleteFunction('never'), false);
      assert.equal(await store.getFunction('gone'), undefined);
      assert.deepEqual((await store.listFunctions()).map((r) => r.spec.name), ['kept']);
      assert.deepEqual(await store.referencedBuilds(), new Set(['k1']));
      const again = await store.putFunction(sampleSpec('gone'), sampleBuild('g3'), 4);
      assert.equal(again.version, 1, 'a deleted name starts a new history');
      assert.equal(again.createdAt, 4);
    });

    test('the stored spec is a copy: mutating the input or a result changes nothing', async () => {
      const { store } = await fresh();
      const spec = sampleSpec('copy');
      const created = await store.putFunction(spec, sampleBuild('c1'), 1);
      spec.env.GREETING = 'changed';
      created.spec.env.GREETING = 'changed too';
      assert.equal((await store.getFunction('copy'))?.spec.env.GREETING, 'hi');
    });

    test('data survives close and reopen of the same directory', async () => {
      const { store, dir } = await fresh();
      await store.putFunction(sampleSpec('durable'), sampleBuild('d1'), 10);
      await store.putFunction(sampleSpec('durable', { env: { A: '1' } }), sampleBuild('d2', 'handler'), 20);
      await store.close();
      const { store: reopened } = await fresh(dir);
      const got = await reopened.getFunction('durable');
      assert.deepEqual(got, {
        spec: sampleSpec('durable', { env: { A: '1' } }),
        version: 2,
        build: sampleBuild('d2', 'handler'),
        createdAt: 10,
        updatedAt: 20,
      });
      assert.deepEqual(await reopened.referencedBuilds(), new Set(['d1', 'd2']));
      assert.equal((await reopened.putFunction(sampleSpec('durable'), sampleBuild('d3'), 30)).version, 3);
    });

    test('concurrent puts of one name get distinct, consecutive versions', async () => {
      const { store } = await fresh();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.putFunction(sampleSpec('race'), sampleBuild(`r${i}`), i)),
      );
      assert.deepEqual(
        results.map((r) => r.version).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.equal((await store.getFunction('race'))?.version, 20);
    });

    test('two handles on the same directory never hand out the same version', async () => {
      const { store: first, dir } = await fresh();
      const { store: second } = await fresh(dir);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? first : second).putFunction(sampleSpec('shared'), sampleBuild(`s${i}`), i)),
      );
      assert.deepEqual(new Set(results.map((r) => r.version)).size, 10);
      assert.equal((await first.getFunction('shared'))?.version, 10);
    });

    test('secrets: a new store has none', async () => {
      const { store } = await fresh();
      assert.deepEqual(await store.listSecrets(), []);
      assert.equal(await store.getSecret('A'), undefined);
      assert.equal(await store.deleteSecret('A'), false);
    });

    test('secrets: put creates version 1, replacing makes the next version and keeps createdAt', async () => {
      const { store } = await fresh();
      const first = await store.putSecret('DB_PASSWORD', Buffer.from([1, 2, 3]), 1000);
      assert.deepEqual(first, { name: 'DB_PASSWORD', version: 1, createdAt: 1000, updatedAt: 1000 });
      assert.deepEqual(await store.getSecret('DB_PASSWORD'), { ...first, sealed: Buffer.from([1, 2, 3]) });
      const second = await store.putSecret('DB_PASSWORD', Buffer.from([4, 5]), 2000);
      assert.deepEqual(second, { name: 'DB_PASSWORD', version: 2, createdAt: 1000, updatedAt: 2000 });
      assert.deepEqual((await store.getSecret('DB_PASSWORD'))?.sealed, Buffer.from([4, 5]));
    });

    test('secrets: list answers metadata only, ordered by name', async () => {
      const { store } = await fresh();
      await store.putSecret('ZED', Buffer.from('z'), 1);
      await store.putSecret('ALPHA', Buffer.from('a'), 2);
      await store.putSecret('ALPHA', Buffer.from('b'), 3);
      assert.deepEqual(await store.listSecrets(), [
        { name: 'ALPHA', version: 2, createdAt: 2, updatedAt: 3 },
        { name: 'ZED', version: 1, createdAt: 1, updatedAt: 1 },
      ]);
    });

    test('secrets: delete removes; a new secret of the same name starts at version 1', async () => {
      const { store } = await fresh();
      await store.putSecret('GONE', Buffer.from('x'), 1);
      await store.putSecret('GONE', Buffer.from('y'), 2);
      await store.putSecret('KEPT', Buffer.from('k'), 3);
      assert.equal(await store.deleteSecret('GONE'), true);
      assert.equal(await store.deleteSecret('GONE'), false);
      assert.equal(await store.getSecret('GONE'), undefined);
      assert.deepEqual((await store.listSecrets()).map((s) => s.name), ['KEPT']);
      assert.equal((await store.putSecret('GONE', Buffer.from('z'), 4)).version, 1);
    });

    test('secrets: the sealed value is stored as given and answered as a copy', async () => {
      const { store } = await fresh();
      const bytes = Buffer.from([0, 255, 0, 10, 13, 0]);
      await store.putSecret('BIN', bytes, 1);
      bytes[0] = 9;
      const got = await store.getSecret('BIN');
      assert.deepEqual(got?.sealed, Buffer.from([0, 255, 0, 10, 13, 0]));
      got!.sealed[1] = 1;
      assert.equal((await store.getSecret('BIN'))?.sealed[1], 255);
    });

    test('secrets: concurrent puts get distinct versions, and data survives reopen', async () => {
      const { store, dir } = await fresh();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.putSecret('RACE', Buffer.from([i]), i)));
      assert.deepEqual(results.map((r) => r.version).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i + 1));
      await store.close();
      const { store: reopened } = await fresh(dir);
      const got = await reopened.getSecret('RACE');
      assert.equal(got?.version, 10);
      assert.equal(got?.sealed.length, 1);
    });

    test('secrets and functions are independent: deleting a function keeps secrets, and the reverse', async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('uses', { secrets: ['S'] }), sampleBuild('b1'), 1);
      await store.putSecret('S', Buffer.from('v'), 1);
      assert.equal(await store.deleteSecret('S'), true);
      assert.deepEqual((await store.getFunction('uses'))?.spec.secrets, ['S']);
      await store.putSecret('S', Buffer.from('v'), 2);
      assert.equal(await store.deleteFunction('uses'), true);
      assert.equal((await store.getSecret('S'))?.version, 1);
    });

    test('a closed store refuses calls with a platform error, and closing twice is harmless', async () => {
      const { store } = await fresh();
      await store.close();
      await store.close();
      const calls: Array<() => Promise<unknown>> = [
        () => store.getFunction('x'),
        () => store.listFunctions(),
        () => store.putFunction(sampleSpec('x'), sampleBuild('b'), 1),
        () => store.deleteFunction('x'),
        () => store.referencedBuilds(),
        () => store.putSecret('X', Buffer.from('x'), 1),
        () => store.getSecret('X'),
        () => store.listSecrets(),
        () => store.deleteSecret('X'),
      ];
      for (const call of calls) {
        await assert.rejects(call(), (err: unknown) => isNimbusError(err));
      }
    });
  });
}
