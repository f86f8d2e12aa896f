/**
 * The control plane's services store a change, then publish it on the change feed: they call no
 * cache, backend or log buffer themselves.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeKeys } from '../../src/auth/invoke-keys.js';
import type { ChangeEvent } from '../../src/control/change-feed.js';
import { FunctionService } from '../../src/control/function-service.js';
import { SecretService } from '../../src/control/secret-service.js';
import { ManualClock } from '../../src/core/clock.js';
import { isNimbusError, NimbusError } from '../../src/core/errors.js';
import { SecretCipher } from '../../src/secrets/cipher.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const SHA = 'a'.repeat(64);

describe('control-plane services publish what they change', () => {
  let dir: string;
  let store: Store;
  const clock = new ManualClock(1_000);
  /** What was published, and what the store held for it at that moment. */
  let published: Array<{ event: ChangeEvent; stored: unknown }> = [];
  const feed = {
    async publish(event: ChangeEvent) {
      const stored = event.type === 'function.deployed' || event.type === 'function.removed' ? await store.functions.getFunction(event.type === 'function.deployed' ? event.record.spec.name : event.name) : undefined;
      published.push({ event, stored });
    },
  };
  let failCheck: NimbusError | undefined;
  const functions = () =>
    new FunctionService({
      functions: store.functions,
      secrets: store.secrets,
      packages: { has: async () => true },
      builder: { build: async (sha) => ({ runtime: 'node', handler: 'index.js', build: { buildId: `b-${sha.slice(0, 4)}`, entry: '__nimbus_bundle.cjs', export: 'default' } }) },
      feed,
      clock,
      check: async () => {
        if (failCheck) throw failCheck;
      },
      networkPolicies: ['outbound', 'none', 'host'],
      sandboxName: 'bubblewrap',
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimbus-control-'));
    store = await SqliteStore.open(dir);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a deploy stores the version, then publishes function.deployed with it', async () => {
    published = [];
    const { record, created } = await functions().deploy('hello', { package: SHA });
    assert.equal(created, true);
    assert.deepEqual(published, [{ event: { type: 'function.deployed', record }, stored: record }]);
    const second = await functions().deploy('hello', { package: SHA, memory: 512 });
    assert.equal(second.record.version, 2);
    assert.deepEqual(published[1]?.event, { type: 'function.deployed', record: second.record });
  });

  test('a refused deploy publishes nothing', async () => {
    published = [];
    failCheck = new NimbusError('FUNCTION_START_FAILED', 'the handler failed to load: nothing exported', { details: { loadError: 'HANDLER_NOT_FOUND' } });
    try {
      await assert.rejects(functions().deploy('refused', { package: SHA }), (err: unknown) => isNimbusError(err) && err.code === 'HANDLER_NOT_FOUND');
    } finally {
      failCheck = undefined;
    }
    await assert.rejects(functions().deploy('hello', { package: 'nope' }), (err: unknown) => isNimbusError(err) && err.code === 'INVALID_REQUEST');
    assert.deepEqual(published, []);
    assert.equal(await store.functions.getFunction('refused'), undefined);
  });

  test('a removal deletes, then publishes function.removed; removing an unknown function publishes nothing', async () => {
    await functions().deploy('gone', { package: SHA });
    published = [];
    await functions().remove('gone');
    assert.deepEqual(published, [{ event: { type: 'function.removed', name: 'gone' }, stored: undefined }]);
    await assert.rejects(functions().remove('gone'), (err: unknown) => isNimbusError(err) && err.code === 'FUNCTION_NOT_FOUND');
    assert.equal(published.length, 1);
  });

  test('a removal answers only once the feed has settled (the instances have drained)', async () => {
    await functions().deploy('drained', { package: SHA });
    let release!: () => void;
    const drained = new Promise<void>((resolve) => (release = resolve));
    const service = new FunctionService({
      functions: store.functions,
      secrets: store.secrets,
      packages: { has: async () => true },
      builder: { build: async () => assert.fail('no build') },
      feed: { publish: () => drained },
      clock,
      networkPolicies: ['outbound'],
      sandboxName: 'bubblewrap',
    });
    let done = false;
    const removing = service.remove('drained').then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    release();
    await removing;
  });

  test('setting a secret publishes secret.changed naming the functions using it; removing publishes it with none', async () => {
    const secrets = new SecretService({ secrets: store.secrets, functions: store.functions, cipher: new SecretCipher(Buffer.alloc(32, 7)), clock, feed });
    published = [];
    const first = await secrets.set('TOKEN', Buffer.from('v1'));
    assert.equal(first.created, true);
    assert.deepEqual(first.secret.functions, []);
    await functions().deploy('user-b', { package: SHA, secrets: ['TOKEN'] });
    await functions().deploy('user-a', { package: SHA, secrets: ['TOKEN'] });
    published = [];
    const second = await secrets.set('TOKEN', Buffer.from('v2'));
    assert.equal(second.created, false);
    assert.deepEqual(second.secret.functions, ['user-a', 'user-b']);
    assert.deepEqual(published.map((p) => p.event), [{ type: 'secret.changed', name: 'TOKEN', functions: ['user-a', 'user-b'] }]);

    published = [];
    await assert.rejects(secrets.remove('TOKEN'), (err: unknown) => isNimbusError(err) && err.code === 'SECRET_IN_USE');
    assert.deepEqual(published, []);
    await functions().remove('user-a');
    await functions().remove('user-b');
    published = [];
    await secrets.remove('TOKEN');
    assert.deepEqual(published.map((p) => p.event), [{ type: 'secret.changed', name: 'TOKEN', functions: [] }]);
  });

  test("a secret a trigger's settings name cannot be removed; the error names the triggers", async () => {
    let users = ['orders'];
    const secrets = new SecretService({ secrets: store.secrets, functions: store.functions, cipher: new SecretCipher(Buffer.alloc(32, 7)), clock, feed, triggersUsing: async () => users });
    await secrets.set('NATS_URL', Buffer.from('nats://u:p@10.0.0.1:4222'));
    await assert.rejects(secrets.remove('NATS_URL'), (err: unknown) => isNimbusError(err) && err.code === 'SECRET_IN_USE' && /trigger orders/.test(err.message) && (err.details?.triggers as string[])[0] === 'orders');
    assert.ok(await store.secrets.getSecret('NATS_URL'), 'still stored');
    users = [];
    await secrets.remove('NATS_URL');
  });

  test('creating and revoking an invoke key publish keys.changed; revoking an unknown key publishes nothing', async () => {
    await functions().deploy('locked', { package: SHA, auth: 'key' });
    const keys = new InvokeKeys({ keys: store.auth, clock, feed });
    published = [];
    const created = await keys.create('locked', {});
    await keys.revoke('locked', created.id);
    assert.deepEqual(published.map((p) => p.event), [
      { type: 'keys.changed', function: 'locked' },
      { type: 'keys.changed', function: 'locked' },
    ]);
    published = [];
    await assert.rejects(keys.revoke('locked', 'key_nope'), (err: unknown) => isNimbusError(err) && err.code === 'INVOKE_KEY_NOT_FOUND');
    assert.deepEqual(published, []);
  });
  test('a deploy stores async settings; left out they keep the previous values, null removes a destination', async () => {
    await functions().deploy('notify', { package: SHA });
    await functions().deploy('alert', { package: SHA });
    const first = await functions().deploy('worker', { package: SHA, maxRetries: 5, retryDelay: '2s', maxEventAge: '1h', onSuccess: 'notify', onFailure: 'alert' });
    const asyncOf = (spec: Record<string, unknown>) =>
      Object.fromEntries(['asyncConcurrency', 'maxRetries', 'retryDelayMs', 'maxEventAgeMs', 'onSuccess', 'onFailure'].filter((k) => k in spec).map((k) => [k, spec[k]]));
    // asyncConcurrency is not stored until set: its default follows the capacity.
    assert.deepEqual(asyncOf({ ...first.record.spec }), { maxRetries: 5, retryDelayMs: 2000, maxEventAgeMs: 3_600_000, onSuccess: 'notify', onFailure: 'alert' });
    const second = await functions().deploy('worker', { package: SHA, asyncConcurrency: 7, onSuccess: null });
    assert.deepEqual(asyncOf({ ...second.record.spec }), { asyncConcurrency: 7, maxRetries: 5, retryDelayMs: 2000, maxEventAgeMs: 3_600_000, onFailure: 'alert' });
    const third = await functions().deploy('worker', { package: SHA, memory: 512 });
    assert.deepEqual(asyncOf({ ...third.record.spec }), asyncOf({ ...second.record.spec }));
    // A new function without async settings stores the defaults (but not asyncConcurrency).
    assert.deepEqual(asyncOf({ ...(await store.functions.getFunction('notify'))!.spec }), { maxRetries: 2, retryDelayMs: 1000, maxEventAgeMs: 21_600_000 });
  });

  test('a destination naming the function itself, or a function not deployed, is refused and nothing is stored', async () => {
    published = [];
    const refused = (body: Record<string, unknown>, field: string, message: RegExp) =>
      assert.rejects(functions().deploy('loop', { package: SHA, ...body }), (err: unknown) => {
        assert.ok(isNimbusError(err), String(err));
        assert.equal(err.code, 'INVALID_REQUEST');
        assert.equal(err.details?.field, field);
        assert.match(err.message, message);
        return true;
      });
    await refused({ onSuccess: 'loop' }, 'onSuccess', /"loop" cannot be its own destination/);
    await refused({ onFailure: 'nowhere' }, 'onFailure', /no function named "nowhere" is deployed; deploy it first/);
    assert.equal(await store.functions.getFunction('loop'), undefined);
    assert.deepEqual(published, []);
    // Once deployed, it can be named; and a function may not name itself on a redeploy either.
    await functions().deploy('nowhere', { package: SHA });
    await functions().deploy('loop', { package: SHA, onFailure: 'nowhere' });
    await assert.rejects(functions().deploy('loop', { package: SHA, onFailure: 'loop' }), (err: unknown) => isNimbusError(err) && err.details?.field === 'onFailure');
    assert.equal((await store.functions.getFunction('loop'))?.spec.onFailure, 'nowhere');
  });
});
