/**
 * TriggerService asks the kind's `check` before storing a new trigger, a replaced one or new
 * settings, and refuses with TRIGGER_SOURCE_UNREACHABLE, storing nothing. A change of state
 * (pause, resume) or of function alone is not checked: a broker that is down must not keep a user
 * from pausing the trigger that points at it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { InProcessChangeFeed } from '../../src/control/in-process-feed.js';
import { TriggerService } from '../../src/control/trigger-service.js';
import { ManualClock } from '../../src/core/clock.js';
import { isNimbusError } from '../../src/core/errors.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { SourceKind } from '../../src/triggers/types.js';
import { sampleBuild, sampleSpec } from '../store/store-fixture.js';

interface ProbeSettings {
  url: string;
  urlSecret?: string | undefined;
}

describe('TriggerService: the source check before storing', () => {
  let dir: string;
  let store: SqliteStore;
  let service: TriggerService;
  /** The broker URL the probe kind's check answers as unreachable. */
  const down = 'probe://127.0.0.1:1';
  const checked: Array<{ settings: ProbeSettings; secrets: Record<string, string> }> = [];
  const kind: SourceKind<ProbeSettings> = {
    type: 'probe',
    settings: z.strictObject({ url: z.string().default('probe://127.0.0.1:9'), urlSecret: z.string().optional() }),
    secretNames: (settings) => (settings.urlSecret === undefined ? [] : [settings.urlSecret]),
    check: async (settings, secrets) => {
      checked.push({ settings, secrets });
      const url = settings.urlSecret === undefined ? settings.url : secrets[settings.urlSecret];
      return url === down ? `cannot connect to ${down}: connect ECONNREFUSED` : undefined;
    },
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimbus-trigger-check-'));
    store = await SqliteStore.open(dir);
    await store.functions.putFunction(sampleSpec('fn'), sampleBuild('b'), 1);
    await store.functions.putFunction(sampleSpec('other'), sampleBuild('b'), 1);
    await store.secrets.putSecret('DOWN_URL', Buffer.from('sealed'), 1);
    service = new TriggerService({
      triggers: store.triggers,
      functions: store.functions,
      secrets: store.secrets,
      secretValues: async (names) => Object.fromEntries(names.map((name) => [name, name === 'DOWN_URL' ? down : ''])),
      kinds: new Map([['probe', kind as SourceKind<unknown>]]),
      feed: new InProcessChangeFeed(),
      clock: new ManualClock(Date.UTC(2026, 0, 1)),
    });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const refusedAs = (field: string) => (err: unknown) =>
    isNimbusError(err) && err.code === 'TRIGGER_SOURCE_UNREACHABLE' && err.details?.field === field && /cannot connect to probe:\/\/127\.0\.0\.1:1/.test(err.message);

  test('create and replace with an unreachable source are refused, nothing stored', async () => {
    await assert.rejects(service.create('nowhere', { function: 'fn', type: 'probe', settings: { url: down } }), refusedAs('settings.url'));
    await assert.rejects(service.put('nowhere', { function: 'fn', type: 'probe', settings: { url: down } }), refusedAs('settings.url'));
    // The secret's value is what the check reaches, and the secret is the field at fault.
    await assert.rejects(service.create('hidden', { function: 'fn', type: 'probe', settings: { urlSecret: 'DOWN_URL' } }), refusedAs('settings.urlSecret'));
    assert.deepEqual(checked.at(-1)?.secrets, { DOWN_URL: down });
    assert.deepEqual(await store.triggers.listTriggers(), []);
  });

  test('new settings are checked; a change of state or function alone is not', async () => {
    await service.create('orders', { function: 'fn', type: 'probe', settings: {} });
    await assert.rejects(service.update('orders', { settings: { url: down } }), refusedAs('settings.url'));
    assert.deepEqual((await service.get('orders')).settings, { url: 'probe://127.0.0.1:9' }, 'the refused settings were not stored');
    const before = checked.length;
    await service.pause('orders');
    await service.resume('orders');
    await service.update('orders', { function: 'other', state: 'paused' });
    assert.equal(checked.length, before, 'no check for state or function changes');
    assert.equal((await service.get('orders')).function, 'other');
  });
});
