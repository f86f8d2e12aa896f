import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import type { SecretRepository } from '../../src/store/types.js';
import { type OpenStore, sampleBuild, sampleSpec, storeFixture } from './store-fixture.js';

/**
 * The behaviour every {@link SecretRepository} must have, run on the `secrets` of stores made by
 * `open` (see {@link OpenStore}).
 */
export function secretRepositoryContract(name: string, open: OpenStore): void {
  describe(`SecretRepository contract: ${name}`, () => {
    const fresh = storeFixture(open, 'nimbus-secrets-');
    const secretsOf = async (dir?: string): Promise<SecretRepository> => (await fresh(dir)).store.secrets;

    test('a new store has no secrets', async () => {
      const secrets = await secretsOf();
      assert.deepEqual(await secrets.listSecrets(), []);
      assert.equal(await secrets.getSecret('A'), undefined);
      assert.equal(await secrets.deleteSecret('A'), false);
    });

    test('put creates version 1, replacing makes the next version and keeps createdAt', async () => {
      const secrets = await secretsOf();
      const first = await secrets.putSecret('DB_PASSWORD', Buffer.from([1, 2, 3]), 1000);
      assert.deepEqual(first, { name: 'DB_PASSWORD', version: 1, createdAt: 1000, updatedAt: 1000 });
      assert.deepEqual(await secrets.getSecret('DB_PASSWORD'), { ...first, sealed: Buffer.from([1, 2, 3]) });
      const second = await secrets.putSecret('DB_PASSWORD', Buffer.from([4, 5]), 2000);
      assert.deepEqual(second, { name: 'DB_PASSWORD', version: 2, createdAt: 1000, updatedAt: 2000 });
      assert.deepEqual((await secrets.getSecret('DB_PASSWORD'))?.sealed, Buffer.from([4, 5]));
    });

    test('list answers metadata only, ordered by name', async () => {
      const secrets = await secretsOf();
      await secrets.putSecret('ZED', Buffer.from('z'), 1);
      await secrets.putSecret('ALPHA', Buffer.from('a'), 2);
      await secrets.putSecret('ALPHA', Buffer.from('b'), 3);
      assert.deepEqual(await secrets.listSecrets(), [
        { name: 'ALPHA', version: 2, createdAt: 2, updatedAt: 3 },
        { name: 'ZED', version: 1, createdAt: 1, updatedAt: 1 },
      ]);
    });

    test('delete removes; a new secret of the same name starts at version 1', async () => {
      const secrets = await secretsOf();
      await secrets.putSecret('GONE', Buffer.from('x'), 1);
      await secrets.putSecret('GONE', Buffer.from('y'), 2);
      await secrets.putSecret('KEPT', Buffer.from('k'), 3);
      assert.equal(await secrets.deleteSecret('GONE'), true);
      assert.equal(await secrets.deleteSecret('GONE'), false);
      assert.equal(await secrets.getSecret('GONE'), undefined);
      assert.deepEqual((await secrets.listSecrets()).map((s) => s.name), ['KEPT']);
      assert.equal((await secrets.putSecret('GONE', Buffer.from('z'), 4)).version, 1);
    });

    test('the sealed value is stored as given and answered as a copy', async () => {
      const secrets = await secretsOf();
      const bytes = Buffer.from([0, 255, 0, 10, 13, 0]);
      await secrets.putSecret('BIN', bytes, 1);
      bytes[0] = 9;
      const got = await secrets.getSecret('BIN');
      assert.deepEqual(got?.sealed, Buffer.from([0, 255, 0, 10, 13, 0]));
      got!.sealed[1] = 1;
      assert.equal((await secrets.getSecret('BIN'))?.sealed[1], 255);
    });

    test('concurrent puts get distinct versions, and data survives reopen', async () => {
      const { store, dir } = await fresh();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.secrets.putSecret('RACE', Buffer.from([i]), i)));
      assert.deepEqual(results.map((r) => r.version).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i + 1));
      await store.close();
      const got = await (await secretsOf(dir)).getSecret('RACE');
      assert.equal(got?.version, 10);
      assert.equal(got?.sealed.length, 1);
    });

    test('secrets and functions are independent: deleting a function keeps secrets, and the reverse', async () => {
      const { store } = await fresh();
      await store.functions.putFunction(sampleSpec('uses', { secrets: ['S'] }), sampleBuild('b1'), 1);
      await store.secrets.putSecret('S', Buffer.from('v'), 1);
      assert.equal(await store.secrets.deleteSecret('S'), true);
      assert.deepEqual((await store.functions.getFunction('uses'))?.spec.secrets, ['S']);
      await store.secrets.putSecret('S', Buffer.from('v'), 2);
      assert.equal(await store.functions.deleteFunction('uses'), true);
      assert.equal((await store.secrets.getSecret('S'))?.version, 1);
    });

    test('a closed store refuses the secret calls with a platform error', async () => {
      const { store } = await fresh();
      await store.close();
      const { secrets } = store;
      const calls: Array<() => Promise<unknown>> = [
        () => secrets.putSecret('X', Buffer.from('x'), 1),
        () => secrets.getSecret('X'),
        () => secrets.listSecrets(),
        () => secrets.deleteSecret('X'),
      ];
      for (const call of calls) await assert.rejects(call(), (err: unknown) => isNimbusError(err));
    });
  });
}
