import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import type { AuthRepository, InvokeKeyRecord, TokenRecord } from '../../src/store/auth-types.js';
import type { FunctionRepository } from '../../src/store/types.js';
import { type OpenStore, sampleSpec, storeFixture } from './store-fixture.js';

function token(id: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return { id, name: `name of ${id}`, scope: 'read', hash: `hash-${id}`, createdAt: 1000, ...overrides };
}

function key(id: string, fn: string, overrides: Partial<InvokeKeyRecord> = {}): InvokeKeyRecord {
  return { id, function: fn, name: `key ${id}`, hash: `hash-${id}`, createdAt: 1000, ...overrides };
}

const build = { buildId: 'b1', entry: '__nimbus_bundle.cjs' };

/**
 * The behaviour every {@link AuthRepository} (API tokens and invoke keys) must have, run on the
 * `auth` of stores made by `open`; invoke keys need functions, made with the same store's `functions`.
 */
export function authRepositoryContract(name: string, open: OpenStore): void {
  describe(`AuthRepository contract: ${name}`, () => {
    const storeFresh = storeFixture(open, 'nimbus-auth-');
    /** The auth repository under test, and the functions of the same auth. */
    const fresh = async (dir?: string): Promise<{ auth: AuthRepository; functions: FunctionRepository; dir: string; close(): Promise<void> }> => {
      const opened = await storeFresh(dir);
      return { auth: opened.store.auth, functions: opened.store.functions, dir: opened.dir, close: () => opened.store.close() };
    };

    test('a new store has no tokens', async () => {
      const { auth } = await fresh();
      assert.deepEqual(await auth.listTokens(), []);
      assert.equal(await auth.findTokenByHash('nope'), undefined);
    });

    test('tokens are created, listed oldest first, and found by hash', async () => {
      const { auth } = await fresh();
      await auth.createToken(token('tok_b', { scope: 'admin', createdAt: 2000 }));
      await auth.createToken(token('tok_a', { scope: 'deploy', createdAt: 1000 }));
      assert.deepEqual((await auth.listTokens()).map((t) => t.id), ['tok_a', 'tok_b']);
      assert.deepEqual(await auth.findTokenByHash('hash-tok_b'), token('tok_b', { scope: 'admin', createdAt: 2000 }));
      assert.equal(await auth.findTokenByHash('hash-unknown'), undefined);
    });

    test('a token id or hash cannot be stored twice', async () => {
      const { auth } = await fresh();
      await auth.createToken(token('tok_a'));
      await assert.rejects(auth.createToken(token('tok_a', { hash: 'other' })));
      await assert.rejects(auth.createToken(token('tok_b', { hash: 'hash-tok_a' })));
      assert.equal((await auth.listTokens()).length, 1);
    });

    test('revokeToken marks it revoked once; unknown ids answer false', async () => {
      const { auth } = await fresh();
      await auth.createToken(token('tok_a'));
      assert.equal(await auth.revokeToken('tok_a', 5000), true);
      assert.equal(await auth.revokeToken('tok_a', 6000), true, 'revoking again is not an error');
      assert.equal(await auth.revokeToken('tok_nope', 5000), false);
      assert.equal((await auth.findTokenByHash('hash-tok_a'))?.revokedAt, 5000, 'the first revocation time stays');
      assert.equal((await auth.listTokens())[0]?.revokedAt, 5000);
    });

    test('touchToken records the last use', async () => {
      const { auth } = await fresh();
      await auth.createToken(token('tok_a'));
      assert.equal((await auth.findTokenByHash('hash-tok_a'))?.lastUsedAt, undefined);
      await auth.touchToken('tok_a', 7000);
      assert.equal((await auth.findTokenByHash('hash-tok_a'))?.lastUsedAt, 7000);
    });

    test('tokens survive close and reopen', async () => {
      const { auth, dir, close } = await fresh();
      await auth.createToken(token('tok_a', { scope: 'deploy' }));
      await auth.revokeToken('tok_a', 3000);
      await close();
      const { auth: reopened } = await fresh(dir);
      assert.deepEqual(await reopened.listTokens(), [token('tok_a', { scope: 'deploy', revokedAt: 3000 })]);
    });

    test('invoke keys belong to an existing function and are listed per function', async () => {
      const { auth, functions } = await fresh();
      await functions.putFunction(sampleSpec('one'), build, 1);
      await functions.putFunction(sampleSpec('two'), build, 1);
      await auth.createInvokeKey(key('key_b', 'one', { createdAt: 2000 }));
      await auth.createInvokeKey(key('key_a', 'one', { createdAt: 1000 }));
      await auth.createInvokeKey(key('key_c', 'two'));
      assert.deepEqual(await auth.listInvokeKeys('one'), [key('key_a', 'one', { createdAt: 1000 }), key('key_b', 'one', { createdAt: 2000 })]);
      assert.deepEqual((await auth.listInvokeKeys('two')).map((k) => k.id), ['key_c']);
      assert.deepEqual(await auth.listInvokeKeys('none'), []);
      await assert.rejects(auth.createInvokeKey(key('key_d', 'none')), (err: unknown) => isNimbusError(err) && err.code === 'FUNCTION_NOT_FOUND');
    });

    test('revokeInvokeKey only revokes a key of that function', async () => {
      const { auth, functions } = await fresh();
      await functions.putFunction(sampleSpec('one'), build, 1);
      await functions.putFunction(sampleSpec('two'), build, 1);
      await auth.createInvokeKey(key('key_a', 'one'));
      assert.equal(await auth.revokeInvokeKey('two', 'key_a', 5000), false, 'a key of another function');
      assert.equal((await auth.listInvokeKeys('one'))[0]?.revokedAt, undefined);
      assert.equal(await auth.revokeInvokeKey('one', 'key_a', 5000), true);
      assert.equal(await auth.revokeInvokeKey('one', 'key_a', 6000), true);
      assert.equal(await auth.revokeInvokeKey('one', 'key_nope', 5000), false);
      assert.equal((await auth.listInvokeKeys('one'))[0]?.revokedAt, 5000);
    });

    test("keys survive redeploys, and removing the function removes them", async () => {
      const { auth, functions } = await fresh();
      await functions.putFunction(sampleSpec('gone'), build, 1);
      await auth.createInvokeKey(key('key_a', 'gone'));
      await functions.putFunction(sampleSpec('gone', { memoryMb: 512 }), build, 2);
      assert.equal((await auth.listInvokeKeys('gone')).length, 1);
      await functions.deleteFunction('gone');
      await functions.putFunction(sampleSpec('gone'), build, 3);
      assert.deepEqual(await auth.listInvokeKeys('gone'), [], 'a new function of the same name starts without keys');
      await auth.createInvokeKey(key('key_a', 'gone'));
    });

    test('a closed store refuses the token and key calls with a platform error', async () => {
      const { auth, close } = await fresh();
      await close();
      const calls: Array<() => Promise<unknown>> = [
        () => auth.createToken(token('tok_a')),
        () => auth.listTokens(),
        () => auth.findTokenByHash('x'),
        () => auth.revokeToken('x', 1),
        () => auth.touchToken('x', 1),
        () => auth.createInvokeKey(key('key_a', 'x')),
        () => auth.listInvokeKeys('x'),
        () => auth.revokeInvokeKey('x', 'y', 1),
      ];
      for (const call of calls) await assert.rejects(call(), (err: unknown) => isNimbusError(err));
    });
  });
}
