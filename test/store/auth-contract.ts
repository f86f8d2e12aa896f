import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import type { InvokeKeyRecord, TokenRecord } from '../../src/store/auth-types.js';
import type { Store } from '../../src/store/types.js';
import { sampleSpec, storeFixture } from './store-fixture.js';

function token(id: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return { id, name: `name of ${id}`, scope: 'read', hash: `hash-${id}`, createdAt: 1000, ...overrides };
}

function key(id: string, fn: string, overrides: Partial<InvokeKeyRecord> = {}): InvokeKeyRecord {
  return { id, function: fn, name: `key ${id}`, hash: `hash-${id}`, createdAt: 1000, ...overrides };
}

const build = { buildId: 'b1', entry: '__nimbus_bundle.cjs' };

/** The {@link AuthStore} part of the store contract (run by storeContract for every Store). */
export function authStoreContract(name: string, open: (dir: string) => Promise<Store>): void {
  describe(`Store contract (tokens and invoke keys): ${name}`, () => {
    const fresh = storeFixture(open, 'nimbus-auth-store-');

    test('a new store has no tokens', async () => {
      const { store } = await fresh();
      assert.deepEqual(await store.listTokens(), []);
      assert.equal(await store.findTokenByHash('nope'), undefined);
    });

    test('tokens are created, listed oldest first, and found by hash', async () => {
      const { store } = await fresh();
      await store.createToken(token('tok_b', { scope: 'admin', createdAt: 2000 }));
      await store.createToken(token('tok_a', { scope: 'deploy', createdAt: 1000 }));
      assert.deepEqual((await store.listTokens()).map((t) => t.id), ['tok_a', 'tok_b']);
      assert.deepEqual(await store.findTokenByHash('hash-tok_b'), token('tok_b', { scope: 'admin', createdAt: 2000 }));
      assert.equal(await store.findTokenByHash('hash-unknown'), undefined);
    });

    test('a token id or hash cannot be stored twice', async () => {
      const { store } = await fresh();
      await store.createToken(token('tok_a'));
      await assert.rejects(store.createToken(token('tok_a', { hash: 'other' })));
      await assert.rejects(store.createToken(token('tok_b', { hash: 'hash-tok_a' })));
      assert.equal((await store.listTokens()).length, 1);
    });

    test('revokeToken marks it revoked once; unknown ids answer false', async () => {
      const { store } = await fresh();
      await store.createToken(token('tok_a'));
      assert.equal(await store.revokeToken('tok_a', 5000), true);
      assert.equal(await store.revokeToken('tok_a', 6000), true, 'revoking again is not an error');
      assert.equal(await store.revokeToken('tok_nope', 5000), false);
      assert.equal((await store.findTokenByHash('hash-tok_a'))?.revokedAt, 5000, 'the first revocation time stays');
      assert.equal((await store.listTokens())[0]?.revokedAt, 5000);
    });

    test('touchToken records the last use', async () => {
      const { store } = await fresh();
      await store.createToken(token('tok_a'));
      assert.equal((await store.findTokenByHash('hash-tok_a'))?.lastUsedAt, undefined);
      await store.touchToken('tok_a', 7000);
      assert.equal((await store.findTokenByHash('hash-tok_a'))?.lastUsedAt, 7000);
    });

    test('tokens survive close and reopen', async () => {
      const { store, dir } = await fresh();
      await store.createToken(token('tok_a', { scope: 'deploy' }));
      await store.revokeToken('tok_a', 3000);
      await store.close();
      const { store: reopened } = await fresh(dir);
      assert.deepEqual(await reopened.listTokens(), [token('tok_a', { scope: 'deploy', revokedAt: 3000 })]);
    });

    test('invoke keys belong to an existing function and are listed per function', async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('one'), build, 1);
      await store.putFunction(sampleSpec('two'), build, 1);
      await store.createInvokeKey(key('key_b', 'one', { createdAt: 2000 }));
      await store.createInvokeKey(key('key_a', 'one', { createdAt: 1000 }));
      await store.createInvokeKey(key('key_c', 'two'));
      assert.deepEqual(await store.listInvokeKeys('one'), [key('key_a', 'one', { createdAt: 1000 }), key('key_b', 'one', { createdAt: 2000 })]);
      assert.deepEqual((await store.listInvokeKeys('two')).map((k) => k.id), ['key_c']);
      assert.deepEqual(await store.listInvokeKeys('none'), []);
      await assert.rejects(store.createInvokeKey(key('key_d', 'none')), (err: unknown) => isNimbusError(err) && err.code === 'FUNCTION_NOT_FOUND');
    });

    test('revokeInvokeKey only revokes a key of that function', async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('one'), build, 1);
      await store.putFunction(sampleSpec('two'), build, 1);
      await store.createInvokeKey(key('key_a', 'one'));
      assert.equal(await store.revokeInvokeKey('two', 'key_a', 5000), false, 'a key of another function');
      assert.equal((await store.listInvokeKeys('one'))[0]?.revokedAt, undefined);
      assert.equal(await store.revokeInvokeKey('one', 'key_a', 5000), true);
      assert.equal(await store.revokeInvokeKey('one', 'key_a', 6000), true);
      assert.equal(await store.revokeInvokeKey('one', 'key_nope', 5000), false);
      assert.equal((await store.listInvokeKeys('one'))[0]?.revokedAt, 5000);
    });

    test("keys survive redeploys, and removing the function removes them", async () => {
      const { store } = await fresh();
      await store.putFunction(sampleSpec('gone'), build, 1);
      await store.createInvokeKey(key('key_a', 'gone'));
      await store.putFunction(sampleSpec('gone', { memoryMb: 512 }), build, 2);
      assert.equal((await store.listInvokeKeys('gone')).length, 1);
      await store.deleteFunction('gone');
      await store.putFunction(sampleSpec('gone'), build, 3);
      assert.deepEqual(await store.listInvokeKeys('gone'), [], 'a new function of the same name starts without keys');
      await store.createInvokeKey(key('key_a', 'gone'));
    });

    test('a closed store refuses the token and key calls with a platform error', async () => {
      const { store } = await fresh();
      await store.close();
      const calls: Array<() => Promise<unknown>> = [
        () => store.createToken(token('tok_a')),
        () => store.listTokens(),
        () => store.findTokenByHash('x'),
        () => store.revokeToken('x', 1),
        () => store.touchToken('x', 1),
        () => store.createInvokeKey(key('key_a', 'x')),
        () => store.listInvokeKeys('x'),
        () => store.revokeInvokeKey('x', 'y', 1),
      ];
      for (const call of calls) await assert.rejects(call(), (err: unknown) => isNimbusError(err));
    });
  });
}
