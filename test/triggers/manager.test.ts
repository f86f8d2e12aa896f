import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { InProcessChangeFeed } from '../../src/control/in-process-feed.js';
import { TriggerService } from '../../src/control/trigger-service.js';
import { ManualClock } from '../../src/core/clock.js';
import { isNimbusError } from '../../src/core/errors.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TriggerManager } from '../../src/triggers/manager.js';
import { cronSource } from '../../src/triggers/sources/cron.js';
import type { SourceContext, SourceKind } from '../../src/triggers/types.js';
import { sampleBuild, sampleSpec } from '../store/store-fixture.js';

interface ProbeSettings {
  url?: string | undefined;
  urlSecret?: string | undefined;
  fail?: string | undefined;
  hang?: boolean | undefined;
}

/** A kind of our own (no broker): records what the manager does with its sources. */
function probeKind() {
  const log: string[] = [];
  let connect!: () => void;
  /** Opened at the end: the broker of `hang` sources finally answers. */
  const brokerAnswers = new Promise<void>((resolve) => (connect = resolve));
  const contexts = new Map<string, SourceContext<ProbeSettings>>();
  const kind: SourceKind<ProbeSettings> = {
    type: 'probe',
    settings: z.strictObject({ url: z.string().optional(), urlSecret: z.string().optional(), fail: z.string().optional(), hang: z.boolean().optional() }),
    secretNames: (settings) => (settings.urlSecret ? [settings.urlSecret] : []),
    create(context) {
      const id = `${context.trigger}:${JSON.stringify(context.settings)}`;
      return {
        async start() {
          contexts.set(context.trigger, context);
          log.push(`start ${id}`);
          if (context.settings.fail) context.status.failing(context.settings.fail);
          else context.status.active();
          // A broker that does not answer (until the end): start must not hold the manager's start.
          if (context.settings.hang) await brokerAnswers;
        },
        async stop() {
          log.push(`stop ${id}`);
        },
      };
    },
    async release(settings, secretValues, trigger) {
      log.push(`release ${trigger}:${JSON.stringify(settings)}${Object.keys(secretValues).length > 0 ? ` with ${Object.keys(secretValues).join(',')}` : ''}`);
      return settings.fail;
    },
  };
  const eventKind: SourceKind<{ eventType: string; eventSource?: string | undefined }> = {
    type: 'event',
    settings: z.strictObject({ eventType: z.string(), eventSource: z.string().optional() }),
    secretNames: () => [],
  };
  return { kind, eventKind, log, contexts, connect };
}

/** Lets the feed's handlers and the manager's chains run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('TriggerService and TriggerManager', () => {
  let dir: string;
  let store: SqliteStore;
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const feed = new InProcessChangeFeed();
  const probe = probeKind();
  const kinds = new Map<string, SourceKind<unknown>>([
    ['cron', cronSource as SourceKind<unknown>],
    ['probe', probe.kind as SourceKind<unknown>],
    ['event', probe.eventKind as SourceKind<unknown>],
  ]);
  const accepted: Array<{ function: string; headers: Record<string, string | string[]> }> = [];
  let service: TriggerService;
  let manager: TriggerManager;
  const secrets: Record<string, string> = { BROKER_URL: 'nats://user:pw@10.0.0.9:4222' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimbus-trigger-manager-'));
    store = await SqliteStore.open(dir);
    for (const fn of ['fn', 'other']) await store.functions.putFunction(sampleSpec(fn), sampleBuild('b'), 1);
    await store.secrets.putSecret('BROKER_URL', Buffer.from('sealed'), 1);
    // Stored before the manager starts: it must pick them up.
    await store.triggers.createTrigger({ name: 'stored', function: 'fn', type: 'probe', settings: {}, state: 'active' }, 1);
    await store.triggers.createTrigger({ name: 'stored-paused', function: 'fn', type: 'probe', settings: {}, state: 'paused' }, 1);
    await store.triggers.createTrigger({ name: 'hangs', function: 'fn', type: 'probe', settings: { hang: true }, state: 'active' }, 1);
    service = new TriggerService({ triggers: store.triggers, functions: store.functions, secrets: store.secrets, secretValues: async () => ({}), kinds, feed, clock });
    manager = new TriggerManager({
      triggers: store.triggers,
      kinds,
      feed,
      secretValues: async (names) => Object.fromEntries(names.map((n) => [n, secrets[n] ?? ''])),
      sink: {
        acceptor: { acceptBatch: async (requests) => requests.map((request) => (accepted.push(request), { id: String(accepted.length), status: 'queued' as const, repeated: false })) },
        queue: { depth: async () => ({ due: 0, delayed: 0, leased: 0 }) },
        functionExists: async (name) => (await store.functions.getFunction(name)) !== undefined,
        clock,
        backlog: 10,
        pollMs: 100,
      },
      clock,
      logger: pino({ level: 'silent' }),
    });
    await manager.start();
    await settle();
  });
  after(async () => {
    probe.connect();
    await manager.close();
    // Stopping the platform stops the sources; what they made on their brokers is still theirs.
    assert.ok(probe.log.includes('stop stored:{}'));
    assert.ok(!probe.log.some((line) => line.startsWith('release stored')), 'no release at close');
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('bad input is refused before anything is stored', async () => {
    const refused = async (body: unknown, code: string, field: string, name = 'bad') => {
      await assert.rejects(service.create(name, body), (err: unknown) => isNimbusError(err) && err.code === code && err.details?.field === field, `${code} ${field}`);
    };
    await refused({ function: 'fn', type: 'probe', settings: { url: 'nats://user:secret@10.0.0.9:4222' } }, 'INVALID_TRIGGER', 'settings.url');
    await refused({ function: 'fn', type: 'probe', settings: { url: 'not a url' } }, 'INVALID_TRIGGER', 'settings.url');
    await refused({ function: 'fn', type: 'probe', settings: { urlSecret: 'MISSING' } }, 'UNKNOWN_SECRET', 'settings.urlSecret');
    await refused({ function: 'fn', type: 'probe', settings: { port: 1 } }, 'INVALID_TRIGGER', 'settings.port');
    await refused({ function: 'nope', type: 'probe', settings: {} }, 'FUNCTION_NOT_FOUND', 'function');
    await refused({ function: 'fn', type: 'smoke-signal', settings: {} }, 'INVALID_TRIGGER', 'type');
    await refused({ function: 'fn', settings: {} }, 'INVALID_TRIGGER', 'type');
    await refused({ function: 'fn', type: 'cron', settings: { schedule: '* * *' } }, 'INVALID_TRIGGER', 'settings.schedule');
    await refused({ function: 'fn', type: 'probe' }, 'INVALID_TRIGGER', 'name', '-bad-');
    await assert.rejects(service.create('stored', { function: 'fn', type: 'probe' }), (err: unknown) => isNimbusError(err) && err.code === 'TRIGGER_EXISTS');
    await assert.rejects(service.update('stored', { type: 'cron' }), (err: unknown) => isNimbusError(err) && err.code === 'INVALID_TRIGGER' && err.details?.field === 'settings');
    assert.deepEqual((await store.triggers.listTriggers()).map((t) => t.name), ['hangs', 'stored', 'stored-paused']);
  });

  test('at start: active stored triggers run, paused ones do not, and a source that never connects holds nothing up', () => {
    assert.ok(probe.log.includes('start stored:{}'));
    assert.ok(probe.log.includes('start hangs:{"hang":true}'));
    assert.ok(!probe.log.some((line) => line.startsWith('start stored-paused')));
  });

  test("a source's failing report is stored with its reason, and cleared when it is active again", async () => {
    await service.create('flaky', { function: 'fn', type: 'probe', settings: { fail: 'connection refused (127.0.0.1:1)' } });
    await settle();
    const failing = await store.triggers.getTrigger('flaky');
    assert.deepEqual(failing?.status, { state: 'failing', error: 'connection refused (127.0.0.1:1)', since: clock.now() });
    probe.contexts.get('flaky')?.status.active();
    await settle();
    assert.deepEqual((await store.triggers.getTrigger('flaky'))?.status, { state: 'active', since: clock.now() });
  });

  test('update restarts the source with the new settings; pause stops it; resume starts it; delete stops it', async () => {
    await service.create('cycle', { function: 'fn', type: 'probe', settings: {} });
    await service.update('cycle', { settings: { url: 'nats://10.0.0.1:4222' } });
    await settle();
    await service.pause('cycle');
    await settle();
    await service.resume('cycle');
    await settle();
    await service.remove('cycle');
    await settle();
    assert.deepEqual(
      probe.log.filter((line) => line.includes('cycle:')),
      [
        'start cycle:{}', 'stop cycle:{}', 'start cycle:{"url":"nats://10.0.0.1:4222"}', 'stop cycle:{"url":"nats://10.0.0.1:4222"}', 'start cycle:{"url":"nats://10.0.0.1:4222"}', 'stop cycle:{"url":"nats://10.0.0.1:4222"}',
        // Only the removal lets go of what the source made on its broker, after the source stopped.
        'release cycle:{"url":"nats://10.0.0.1:4222"}',
      ],
    );
  });

  test('a change told late or out of order cannot start a stale definition: the store decides', async () => {
    const old = await service.create('stale', { function: 'fn', type: 'probe', settings: {} });
    await service.remove('stale');
    await settle();
    const starts = probe.log.filter((line) => line.startsWith('start stale')).length;
    await feed.publish({ type: 'trigger.changed', record: old });
    await settle();
    assert.equal(probe.log.filter((line) => line.startsWith('start stale')).length, starts, 'not started again');
  });

  test('the secret named by urlSecret reaches the source; a new value restarts it', async () => {
    await service.create('with-secret', { function: 'fn', type: 'probe', settings: { urlSecret: 'BROKER_URL' } });
    await settle();
    assert.deepEqual(probe.contexts.get('with-secret')?.secrets, { BROKER_URL: 'nats://user:pw@10.0.0.9:4222' });
    secrets.BROKER_URL = 'nats://user:new@10.0.0.9:4222';
    await feed.publish({ type: 'secret.changed', name: 'BROKER_URL', functions: [] });
    await settle();
    assert.deepEqual(probe.contexts.get('with-secret')?.secrets, { BROKER_URL: 'nats://user:new@10.0.0.9:4222' });
    await service.remove('with-secret');
    await settle();
    assert.ok(probe.log.includes('release with-secret:{"urlSecret":"BROKER_URL"} with BROKER_URL'), 'the release gets the secret too');
  });

  test("a release that fails does not keep the trigger: it is removed all the same", async () => {
    await service.create('release-fails', { function: 'fn', type: 'probe', settings: { fail: 'broker down' } });
    await settle();
    await service.remove('release-fails');
    await settle();
    assert.ok(probe.log.includes('release release-fails:{"fail":"broker down"}'));
    assert.equal(await store.triggers.getTrigger('release-fails'), undefined);
  });

  test("removing a function stops its triggers' sources (the store removed them)", async () => {
    await service.create('of-other', { function: 'other', type: 'probe', settings: {} });
    await settle();
    await store.functions.deleteFunction('other');
    await feed.publish({ type: 'function.removed', name: 'other' });
    assert.ok(probe.log.includes('stop of-other:{}'));
    assert.ok(probe.log.includes('release of-other:{}'), 'its broker-side state goes too');
    assert.equal(await store.triggers.getTrigger('of-other'), undefined);
  });

  test('event triggers: matched by type and source prefix, delivered through their sink', async () => {
    await service.create('signups', { function: 'fn', type: 'event', settings: { eventType: 'com.example.signup', eventSource: 'https://shop.example' } });
    await service.create('any-signup', { function: 'fn', type: 'event', settings: { eventType: 'com.example.signup' } });
    await settle();
    assert.deepEqual(manager.triggersMatching('com.example.signup', 'https://shop.example/eu').map((t) => t.name).sort(), ['any-signup', 'signups']);
    assert.deepEqual(manager.triggersMatching('com.example.signup', 'https://other.example').map((t) => t.name), ['any-signup']);
    assert.deepEqual(manager.triggersMatching('com.example.other', 'https://shop.example'), []);
    await manager.sinkFor('signups')?.deliver([{ id: 'e1', type: 'com.example.signup', source: 'https://shop.example/eu', data: Buffer.from('{}') }]);
    assert.equal(accepted.at(-1)?.headers['ce-id'], 'e1');
    await service.pause('signups');
    await settle();
    assert.equal(manager.sinkFor('signups'), undefined, 'a paused trigger takes no events');
    assert.deepEqual(manager.triggersMatching('com.example.signup', 'https://shop.example/eu').map((t) => t.name), ['any-signup']);
  });
});
