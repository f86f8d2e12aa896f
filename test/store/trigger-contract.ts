import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNimbusError } from '../../src/core/errors.js';
import type { TriggerDefinition } from '../../src/store/trigger-types.js';
import type { Store } from '../../src/store/types.js';
import { type OpenStore, sampleBuild, sampleSpec, storeFixture } from './store-fixture.js';

const cron = (name: string, fn = 'target', overrides: Partial<TriggerDefinition> = {}): TriggerDefinition => ({
  name,
  function: fn,
  type: 'cron',
  settings: { schedule: '* * * * *', data: { n: 1 } },
  state: 'active',
  ...overrides,
});

/**
 * The behaviour every {@link TriggerRepository} must have, run on the `triggers` of stores made by
 * `open` (see {@link OpenStore}).
 */
export function triggerRepositoryContract(name: string, open: OpenStore): void {
  describe(`TriggerRepository contract: ${name}`, () => {
    const fresh = storeFixture(open, 'nimbus-triggers-');
    const storeWith = async (...functions: string[]): Promise<Store> => {
      const { store } = await fresh();
      for (const fn of functions.length > 0 ? functions : ['target']) await store.functions.putFunction(sampleSpec(fn), sampleBuild('b1'), 1);
      return store;
    };

    test('a new store has no triggers', async () => {
      const { triggers } = await storeWith();
      assert.deepEqual(await triggers.listTriggers(), []);
      assert.equal(await triggers.getTrigger('t'), undefined);
      assert.equal(await triggers.deleteTrigger('t'), false);
    });

    test('create stores the definition with status starting since now; a taken name answers undefined and changes nothing', async () => {
      const { triggers } = await storeWith();
      const record = await triggers.createTrigger(cron('tick'), 1000);
      assert.deepEqual(record, { ...cron('tick'), createdAt: 1000, updatedAt: 1000, status: { state: 'starting', since: 1000 } });
      assert.deepEqual(await triggers.getTrigger('tick'), record);
      assert.equal(await triggers.createTrigger(cron('tick', 'target', { settings: { schedule: '0 * * * *' } }), 2000), undefined);
      assert.deepEqual(await triggers.getTrigger('tick'), record);
    });

    test('a trigger of a function that does not exist is refused with FUNCTION_NOT_FOUND, nothing stored', async () => {
      const { triggers } = await storeWith();
      for (const write of [() => triggers.createTrigger(cron('t', 'nope'), 1), () => triggers.putTrigger(cron('t', 'nope'), 1)]) {
        await assert.rejects(write(), (err: unknown) => isNimbusError(err) && err.code === 'FUNCTION_NOT_FOUND');
      }
      assert.deepEqual(await triggers.listTriggers(), []);
    });

    test('put creates, then replaces the definition keeping createdAt; the status starts again', async () => {
      const { triggers } = await storeWith('target', 'other');
      const first = await triggers.putTrigger(cron('tick'), 1000);
      assert.equal(first.created, true);
      await triggers.setStatus('tick', { state: 'failing', error: 'down', since: 1500 });
      const second = await triggers.putTrigger(cron('tick', 'other', { state: 'paused', settings: { schedule: '*/5 * * * * *' } }), 2000);
      assert.equal(second.created, false);
      assert.deepEqual(second.record, {
        ...cron('tick', 'other', { state: 'paused', settings: { schedule: '*/5 * * * * *' } }),
        createdAt: 1000,
        updatedAt: 2000,
        status: { state: 'starting', since: 2000 },
      });
    });

    test('status: failing with a reason, then active again; false for an unknown trigger', async () => {
      const { triggers } = await storeWith();
      await triggers.createTrigger(cron('tick'), 1);
      assert.equal(await triggers.setStatus('tick', { state: 'failing', error: 'connection refused', since: 5 }), true);
      assert.deepEqual((await triggers.getTrigger('tick'))?.status, { state: 'failing', error: 'connection refused', since: 5 });
      await triggers.setStatus('tick', { state: 'active', since: 9 });
      assert.deepEqual((await triggers.getTrigger('tick'))?.status, { state: 'active', since: 9 });
      assert.equal(await triggers.setStatus('gone', { state: 'active', since: 1 }), false);
    });

    test('list is ordered by name and filters by function', async () => {
      const { triggers } = await storeWith('a', 'b');
      await triggers.createTrigger(cron('zeta', 'a'), 1);
      await triggers.createTrigger(cron('alpha', 'b'), 2);
      await triggers.createTrigger(cron('mid', 'a'), 3);
      assert.deepEqual((await triggers.listTriggers()).map((t) => t.name), ['alpha', 'mid', 'zeta']);
      assert.deepEqual((await triggers.listTriggers({ function: 'a' })).map((t) => t.name), ['mid', 'zeta']);
      assert.deepEqual(await triggers.listTriggers({ function: 'none' }), []);
    });

    test('source state: JSON values per trigger and key, kept across an update of the same type, cleared when the type changes', async () => {
      const { triggers } = await storeWith();
      await triggers.createTrigger(cron('one'), 1);
      await triggers.createTrigger(cron('two'), 1);
      assert.equal(await triggers.getState('one', 'lastTick'), undefined);
      assert.equal(await triggers.setState('one', 'lastTick', { at: 60_000, id: 'x' }), true);
      await triggers.setState('two', 'lastTick', 5);
      await triggers.setState('one', 'lastTick', { at: 120_000, id: 'y' });
      assert.deepEqual(await triggers.getState('one', 'lastTick'), { at: 120_000, id: 'y' });
      assert.equal(await triggers.getState('two', 'lastTick'), 5);
      await triggers.putTrigger(cron('one', 'target', { settings: { schedule: '0 0 * * *' } }), 2);
      assert.deepEqual(await triggers.getState('one', 'lastTick'), { at: 120_000, id: 'y' }, 'kept: same kind');
      await triggers.putTrigger(cron('one', 'target', { type: 'event', settings: { eventType: 'x' } }), 3);
      assert.equal(await triggers.getState('one', 'lastTick'), undefined, 'cleared: another kind');
      assert.equal(await triggers.setState('gone', 'k', 1), false, 'nothing stored for an unknown trigger');
      assert.equal(await triggers.getState('gone', 'k'), undefined);
    });

    test('delete removes the trigger and its state; a new one of the same name starts empty', async () => {
      const { triggers } = await storeWith();
      await triggers.createTrigger(cron('tick'), 1);
      await triggers.setState('tick', 'k', 'v');
      assert.equal(await triggers.deleteTrigger('tick'), true);
      assert.equal(await triggers.deleteTrigger('tick'), false);
      assert.equal(await triggers.getTrigger('tick'), undefined);
      await triggers.createTrigger(cron('tick'), 2);
      assert.equal(await triggers.getState('tick', 'k'), undefined);
    });

    test("removing a function removes its triggers and their state, and no other function's", async () => {
      const store = await storeWith('a', 'b');
      await store.triggers.createTrigger(cron('of-a', 'a'), 1);
      await store.triggers.setState('of-a', 'k', 1);
      await store.triggers.createTrigger(cron('of-b', 'b'), 1);
      assert.equal(await store.functions.deleteFunction('a'), true);
      assert.deepEqual((await store.triggers.listTriggers()).map((t) => t.name), ['of-b']);
      await store.functions.putFunction(sampleSpec('a'), sampleBuild('b2'), 2);
      await store.triggers.createTrigger(cron('of-a', 'a'), 3);
      assert.equal(await store.triggers.getState('of-a', 'k'), undefined);
    });

    test('records are copies, and everything survives reopening the store', async () => {
      const { store, dir } = await fresh();
      await store.functions.putFunction(sampleSpec('target'), sampleBuild('b1'), 1);
      const record = await store.triggers.createTrigger(cron('tick'), 1);
      assert.ok(record);
      (record.settings as { schedule: string }).schedule = 'changed';
      await store.triggers.setState('tick', 'k', [1, 2]);
      await store.close();
      const reopened = (await fresh(dir)).store;
      assert.deepEqual((await reopened.triggers.getTrigger('tick'))?.settings, cron('tick').settings);
      assert.deepEqual(await reopened.triggers.getState('tick', 'k'), [1, 2]);
    });

    test('after close, calls reject with SHUTTING_DOWN', async () => {
      const store = await storeWith();
      await store.close();
      await assert.rejects(store.triggers.listTriggers(), (err: unknown) => isNimbusError(err) && err.code === 'SHUTTING_DOWN');
    });
  });
}
