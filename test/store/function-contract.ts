import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import type { FunctionRepository } from '../../src/store/types.js';
import { type OpenStore, sampleBuild, sampleSpec, storeFixture } from './store-fixture.js';

/**
 * The behaviour every {@link FunctionRepository} must have, run on the `functions` of stores made
 * by `open` (see {@link OpenStore}).
 */
export function functionRepositoryContract(name: string, open: OpenStore): void {
  describe(`FunctionRepository contract: ${name}`, () => {
    const fresh = storeFixture(open, 'nimbus-functions-');
    const functionsOf = async (dir?: string): Promise<FunctionRepository> => (await fresh(dir)).store.functions;

    test('a new store is empty', async () => {
      const functions = await functionsOf();
      assert.equal(await functions.getFunction('hello'), undefined);
      assert.deepEqual(await functions.listFunctions(), []);
      assert.deepEqual(await functions.referencedBuilds(), new Set());
      assert.deepEqual(await functions.listVersions('hello'), []);
      assert.equal(await functions.getVersion('hello', 1), undefined);
    });

    test('putFunction creates version 1 and getFunction returns it', async () => {
      const functions = await functionsOf();
      const spec = sampleSpec('hello');
      const created = await functions.putFunction(spec, sampleBuild('b1', 'handler'), 1000);
      assert.deepEqual(created, { spec, version: 1, build: sampleBuild('b1', 'handler'), createdAt: 1000, updatedAt: 1000 });
      assert.deepEqual(await functions.getFunction('hello'), created);
    });

    test('each put makes a new version; createdAt stays, updatedAt moves', async () => {
      const functions = await functionsOf();
      await functions.putFunction(sampleSpec('hello'), sampleBuild('b1'), 1000);
      const second = await functions.putFunction(sampleSpec('hello', { memoryMb: 512 }), sampleBuild('b2'), 2000);
      const third = await functions.putFunction(sampleSpec('hello', { memoryMb: 1024 }), sampleBuild('b3'), 3000);
      assert.equal(second.version, 2);
      assert.equal(third.version, 3);
      const current = await functions.getFunction('hello');
      assert.equal(current?.version, 3);
      assert.equal(current?.spec.memoryMb, 1024);
      assert.equal(current?.build.buildId, 'b3');
      assert.equal(current?.createdAt, 1000);
      assert.equal(current?.updatedAt, 3000);
    });

    test('without an export, put and get return the same record', async () => {
      const functions = await functionsOf();
      const created = await functions.putFunction(sampleSpec('web'), sampleBuild('b1'), 1);
      const got = await functions.getFunction('web');
      assert.equal(got?.build.export, undefined);
      assert.deepEqual(got, created);
    });

    test('listFunctions returns the current version of each, ordered by name, without history', async () => {
      const functions = await functionsOf();
      await functions.putFunction(sampleSpec('zeta'), sampleBuild('z1'), 1);
      await functions.putFunction(sampleSpec('alpha'), sampleBuild('a1'), 2);
      await functions.putFunction(sampleSpec('mid'), sampleBuild('m1'), 3);
      await functions.putFunction(sampleSpec('alpha', { handler: 'index.handler' }), sampleBuild('a2', 'handler'), 4);
      const list = await functions.listFunctions();
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

    test('listVersions answers the history newest first, each version as it was deployed', async () => {
      const functions = await functionsOf();
      await functions.putFunction(sampleSpec('hist'), sampleBuild('h1', 'handler'), 1000);
      await functions.putFunction(sampleSpec('other'), sampleBuild('o1'), 1500);
      await functions.putFunction(sampleSpec('hist', { memoryMb: 512 }), sampleBuild('h2', 'handler'), 2000);
      await functions.putFunction(sampleSpec('hist', { env: {} }), sampleBuild('h3', 'default'), 3000);
      assert.deepEqual(await functions.listVersions('hist'), [
        { spec: sampleSpec('hist', { env: {} }), version: 3, build: sampleBuild('h3', 'default'), deployedAt: 3000 },
        { spec: sampleSpec('hist', { memoryMb: 512 }), version: 2, build: sampleBuild('h2', 'handler'), deployedAt: 2000 },
        { spec: sampleSpec('hist'), version: 1, build: sampleBuild('h1', 'handler'), deployedAt: 1000 },
      ]);
      assert.deepEqual((await functions.listVersions('other')).map((v) => v.version), [1]);
      assert.deepEqual(await functions.listVersions('never'), []);
    });

    test('getVersion answers any version of the history, the current one included', async () => {
      const functions = await functionsOf();
      await functions.putFunction(sampleSpec('hist'), sampleBuild('h1', 'handler'), 1000);
      const current = await functions.putFunction(sampleSpec('hist', { memoryMb: 512 }), sampleBuild('h2', 'handler'), 2000);
      assert.deepEqual(await functions.getVersion('hist', 1), { spec: sampleSpec('hist'), version: 1, build: sampleBuild('h1', 'handler'), deployedAt: 1000 });
      assert.deepEqual(await functions.getVersion('hist', 2), { spec: current.spec, version: 2, build: current.build, deployedAt: current.updatedAt });
      assert.equal(await functions.getVersion('hist', 3), undefined);
      assert.equal(await functions.getVersion('hist', 0), undefined);
      assert.equal(await functions.getVersion('never', 1), undefined);
    });

    test('versions are copies: mutating one changes nothing stored', async () => {
      const functions = await functionsOf();
      await functions.putFunction(sampleSpec('copy'), sampleBuild('c1'), 1);
      const version = await functions.getVersion('copy', 1);
      version!.spec.env.GREETING = 'changed';
      (await functions.listVersions('copy'))[0]!.spec.env.GREETING = 'changed too';
      assert.equal((await functions.getVersion('copy', 1))?.spec.env.GREETING, 'hi');
    });

    test('referencedBuilds includes the builds of older versions', async () => {
      const functions = await functionsOf();
      await functions.putFunction(sampleSpec('one'), sampleBuild('b1'), 1);
      await functions.putFunction(sampleSpec('one'), sampleBuild('b2'), 2);
      await functions.putFunction(sampleSpec('two'), sampleBuild('b2'), 3);
      assert.deepEqual(await functions.referencedBuilds(), new Set(['b1', 'b2']));
    });

    test('deleteFunction removes the function and its history', async () => {
      const functions = await functionsOf();
      await functions.putFunction(sampleSpec('gone'), sampleBuild('g1'), 1);
      await functions.putFunction(sampleSpec('gone'), sampleBuild('g2'), 2);
      await functions.putFunction(sampleSpec('kept'), sampleBuild('k1'), 3);
      assert.equal(await functions.deleteFunction('gone'), true);
      assert.equal(await functions.deleteFunction('gone'), false);
      assert.equal(await functions.deleteFunction('never'), false);
      assert.equal(await functions.getFunction('gone'), undefined);
      assert.deepEqual(await functions.listVersions('gone'), []);
      assert.equal(await functions.getVersion('gone', 1), undefined);
      assert.deepEqual((await functions.listFunctions()).map((r) => r.spec.name), ['kept']);
      assert.deepEqual(await functions.referencedBuilds(), new Set(['k1']));
      const again = await functions.putFunction(sampleSpec('gone'), sampleBuild('g3'), 4);
      assert.equal(again.version, 1, 'a deleted name starts a new history');
      assert.equal(again.createdAt, 4);
      assert.deepEqual((await functions.listVersions('gone')).map((v) => [v.version, v.build.buildId]), [[1, 'g3']]);
    });

    test('the stored spec is a copy: mutating the input or a result changes nothing', async () => {
      const functions = await functionsOf();
      const spec = sampleSpec('copy');
      const created = await functions.putFunction(spec, sampleBuild('c1'), 1);
      spec.env.GREETING = 'changed';
      created.spec.env.GREETING = 'changed too';
      assert.equal((await functions.getFunction('copy'))?.spec.env.GREETING, 'hi');
    });

    test('data survives close and reopen of the same directory', async () => {
      const { store, dir } = await fresh();
      await store.functions.putFunction(sampleSpec('durable'), sampleBuild('d1'), 10);
      await store.functions.putFunction(sampleSpec('durable', { env: { A: '1' } }), sampleBuild('d2', 'handler'), 20);
      await store.close();
      const reopened = await functionsOf(dir);
      const got = await reopened.getFunction('durable');
      assert.deepEqual(got, {
        spec: sampleSpec('durable', { env: { A: '1' } }),
        version: 2,
        build: sampleBuild('d2', 'handler'),
        createdAt: 10,
        updatedAt: 20,
      });
      assert.deepEqual(await reopened.referencedBuilds(), new Set(['d1', 'd2']));
      assert.deepEqual((await reopened.listVersions('durable')).map((v) => [v.version, v.deployedAt]), [[2, 20], [1, 10]]);
      assert.equal((await reopened.putFunction(sampleSpec('durable'), sampleBuild('d3'), 30)).version, 3);
    });

    test('concurrent puts of one name get distinct, consecutive versions', async () => {
      const functions = await functionsOf();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => functions.putFunction(sampleSpec('race'), sampleBuild(`r${i}`), i)));
      assert.deepEqual(
        results.map((r) => r.version).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.equal((await functions.getFunction('race'))?.version, 20);
      assert.deepEqual((await functions.listVersions('race')).map((v) => v.version), Array.from({ length: 20 }, (_, i) => 20 - i));
    });

    test('two handles on the same directory never hand out the same version', async () => {
      const { store: firstStore, dir } = await fresh();
      const first = firstStore.functions;
      const second = await functionsOf(dir);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? first : second).putFunction(sampleSpec('shared'), sampleBuild(`s${i}`), i)));
      assert.deepEqual(new Set(results.map((r) => r.version)).size, 10);
      assert.equal((await first.getFunction('shared'))?.version, 10);
    });

    test('a closed store refuses the function calls with a platform error, and closing twice is harmless', async () => {
      const { store } = await fresh();
      await store.close();
      await store.close();
      const { functions } = store;
      const calls: Array<() => Promise<unknown>> = [
        () => functions.getFunction('x'),
        () => functions.listFunctions(),
        () => functions.putFunction(sampleSpec('x'), sampleBuild('b'), 1),
        () => functions.deleteFunction('x'),
        () => functions.getVersion('x', 1),
        () => functions.listVersions('x'),
        () => functions.referencedBuilds(),
      ];
      for (const call of calls) await assert.rejects(call(), (err: unknown) => isNimbusError(err));
    });
  });
}
