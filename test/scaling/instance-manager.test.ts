import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InstanceProvider, ProvidedInstance } from '../../src/providers/types.js';
import { InstanceManager } from '../../src/scaling/instance-manager.js';
import { ManualClock } from '../../src/core/clock.js';
import { isNimbusError } from '../../src/core/errors.js';
import type { FunctionRecord } from '../../src/store/types.js';

function record(version: number, overrides: Partial<FunctionRecord['spec']> = {}): FunctionRecord {
  return {
    version,
    createdAt: 0,
    updatedAt: 0,
    build: { buildId: 'b', entry: 'index.js' },
    spec: {
      name: 'fn',
      runtime: 'node',
      handler: 'index.js',
      env: {},
      timeoutMs: 1000,
      memoryMb: 128,
      idleTimeoutMs: 60_000,
      concurrency: 2,
      maxInstances: 2,
      minInstances: 0,
      packageSha256: 'x',
      ...overrides,
    },
  };
}

/**
 * A stand-in instance whose start the test completes by hand: the decisions above the provider
 * (who waits, how many start, what is reaped when) are what is under test here, not processes.
 */
class FakeInstance implements ProvidedInstance {
  static count = 0;
  readonly id = `fake-${++FakeInstance.count}`;
  startMs = 0;
  dispatcher = {} as never;
  stopped = false;
  readonly exited: Promise<void>;
  private markExited!: () => void;
  private finishStart!: (err?: Error) => void;
  readonly started: Promise<FakeInstance>;

  constructor(readonly record: FunctionRecord) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    this.started = new Promise((resolve, reject) => {
      this.finishStart = (err) => (err ? reject(err) : resolve(this));
    });
  }

  becomeReady(startMs = 5): void {
    this.startMs = startMs;
    this.finishStart();
  }

  failStart(err: Error): void {
    this.finishStart(err);
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.markExited();
    return Promise.resolve();
  }

  kill(): void {
    void this.stop();
  }
}

/** A provider whose starts wait for the test. */
class HandProvider implements InstanceProvider {
  readonly created: FakeInstance[] = [];
  start(fn: FunctionRecord): Promise<ProvidedInstance> {
    const instance = new FakeInstance(fn);
    this.created.push(instance);
    return instance.started;
  }
  list(): ProvidedInstance[] {
    return this.created.filter((i) => !i.stopped);
  }
  async shutdown(): Promise<void> {}
}

function setup(maxQueue = 100, spec: Partial<FunctionRecord['spec']> = {}) {
  const clock = new ManualClock(1000);
  const provider = new HandProvider();
  const manager = new InstanceManager({ provider, clock, maxQueue, maxQueueWaitMs: 5000, scaleIntervalMs: 1000 });
  const fn = record(1, spec);
  return { clock, created: provider.created, manager, fn, acquire: (r = fn) => manager.acquire(r, new AbortController().signal), status: () => manager.status('fn') };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('InstanceManager: admission and scaling above a provider', () => {
  test('the first request starts an instance and is served cold; the next is warm', async () => {
    const { clock, created, acquire, status } = setup();
    const first = acquire();
    assert.equal(created.length, 1);
    clock.advance(30);
    created[0]!.becomeReady(30);
    const lease = await first;
    assert.equal(lease.coldStart, true);
    assert.equal(lease.startMs, 30);
    assert.equal(lease.waitMs, 30);
    const warm = await acquire();
    assert.equal(warm.coldStart, false);
    assert.equal(status().inflight, 2);
  });

  test('waiters are served in arrival order and instances start as the queue needs, up to maxInstances', async () => {
    const { created, manager, fn, status } = setup();
    const order: number[] = [];
    const leases = Array.from({ length: 6 }, (_, i) => manager.acquire(fn, new AbortController().signal).then((l) => (order.push(i), l)));
    // 6 waiters at concurrency 2 need 3 instances, but maxInstances is 2.
    assert.equal(created.length, 2);
    created[0]!.becomeReady();
    created[1]!.becomeReady();
    await tick();
    assert.deepEqual(order, [0, 1, 2, 3]);
    (await leases[0]!).release('ok');
    await tick();
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(status().queued, 1);
  });

  test('a full queue answers FUNCTION_OVERLOADED at once, with Retry-After', async () => {
    const { acquire } = setup(2);
    void acquire().catch(() => undefined);
    void acquire().catch(() => undefined);
    await assert.rejects(acquire(), (err) => {
      return isNimbusError(err) && err.code === 'FUNCTION_OVERLOADED' && err.headers?.['retry-after'] === '1';
    });
  });

  test('an aborted waiter leaves the queue', async () => {
    const { manager, fn, status } = setup();
    const controller = new AbortController();
    const waiting = manager.acquire(fn, controller.signal);
    controller.abort(new Error('deadline'));
    await assert.rejects(waiting, /deadline/);
    assert.equal(status().queued, 0);
  });

  test('a failed start fails the waiters with its reason, and shows as the last start error', async () => {
    const { created, acquire, status } = setup();
    const waiting = acquire();
    created[0]!.failStart(new Error('handler failed to load'));
    await assert.rejects(waiting, /handler failed to load/);
    assert.equal(status().instances, 0);
    assert.match(status().lastStartError?.message ?? '', /handler failed to load/);
  });

  test('scale to zero after the idle timeout, never with work in flight', async () => {
    const { clock, created, acquire, status } = setup();
    const lease = acquire();
    created[0]!.becomeReady();
    const busy = await lease;
    clock.advance(120_000);
    assert.equal(created[0]!.stopped, false, 'an instance with work in flight is not stopped');
    assert.equal(status().desired, 1);
    busy.release('ok');
    clock.advance(58_000);
    assert.equal(created[0]!.stopped, false, 'still within the idle timeout (60 s)');
    clock.advance(4000);
    assert.equal(created[0]!.stopped, true);
    assert.equal(status().desired, 0);
  });

  test('min instances run without traffic and are never scaled away', async () => {
    const { clock, created, manager, fn, status } = setup(100, { minInstances: 2 });
    manager.configure(fn);
    assert.equal(created.length, 2);
    for (const instance of created) instance.becomeReady();
    await tick();
    clock.advance(600_000);
    assert.equal(created.filter((i) => i.stopped).length, 0);
    assert.equal(status().desired, 2);
    assert.equal(status().ready, 2, 'a function with min instances is kept');
  });

  test('sustained load grows the instance count up to maxInstances', async () => {
    const { clock, created, acquire, status } = setup(100, { maxInstances: 5, concurrency: 2 });
    const first = acquire();
    created[0]!.becomeReady();
    await first;
    // 12 requests in flight or waiting: at concurrency 2 and 70% utilisation that wants 9, capped at 5.
    for (let i = 0; i < 11; i++) void acquire().catch(() => undefined);
    // (Within the 5 s queue bound: past it the waiters leave and the demand falls.)
    clock.advance(4000);
    assert.equal(status().desired, 5);
    assert.equal(created.length, 5);
  });

  test('an idle timeout shorter than 60 s shortens the stable window: the count follows the load down within it', async () => {
    const { clock, created, acquire, status } = setup(100, { maxInstances: 10, concurrency: 1, idleTimeoutMs: 10_000 });
    const tickFor = async (ms: number) => {
      for (let t = 0; t < ms; t += 1000) {
        clock.advance(1000);
        for (const instance of created) instance.becomeReady();
        await tick();
      }
    };
    const pending = Array.from({ length: 8 }, () => acquire());
    for (const instance of created) instance.becomeReady();
    const leases = await Promise.all(pending);
    await tickFor(30_000); // 8 in flight for 30 s
    assert.equal(status().desired, 10, 'ceil(8 / 0.7) = 12, capped at 10');
    for (const lease of leases.slice(1)) lease.release('ok');
    // One request stays in flight, so the function is never idle: only the windows bring it down.
    await tickFor(15_000);
    // Over a 10 s window the average is 1: ceil(1 / 0.7) = 2. Over 60 s it would still be
    // (8 * 30 + 15) / 45 = 5.7, asking for 9.
    assert.equal(status().desired, 2);
    assert.equal(created.filter((i) => !i.stopped).length, 2, 'the surplus instances were stopped');
  });

  test('a request that waits longer than the queue bound gets FUNCTION_OVERLOADED', async () => {
    const { clock, acquire, status } = setup();
    const waiting = acquire();
    clock.advance(4999);
    assert.equal(status().queued, 1);
    clock.advance(1);
    await assert.rejects(waiting, (err) => isNimbusError(err) && err.code === 'FUNCTION_OVERLOADED' && err.headers?.['retry-after'] === '1');
    assert.equal(status().queued, 0);
  });

  test('a new version drains the old instances and starts new ones', async () => {
    const { created, manager, acquire } = setup();
    const old = acquire();
    created[0]!.becomeReady();
    const oldLease = await old;
    const next = acquire(record(2));
    assert.deepEqual(manager.instances('fn').map((i) => [i.version, i.state]), [[1, 'draining'], [2, 'starting']]);
    assert.equal(created.length, 2);
    assert.equal(created[1]!.record.version, 2);
    created[1]!.becomeReady();
    assert.equal((await next).instanceId, created[1]!.id, 'served by the new version');
    oldLease.release('ok');
    assert.equal(created[0]!.stopped, true, 'the old instance stops once its last request is done');
  });

  test('an instance superseded while it starts never serves: it is stopped as soon as it is up', async () => {
    const { created, acquire } = setup();
    void acquire().catch(() => undefined);
    const next = acquire(record(2));
    created[0]!.becomeReady();
    created[1]!.becomeReady();
    assert.equal((await next).instanceId, created[1]!.id);
    await tick();
    assert.equal(created[0]!.stopped, true);
  });

  test('a timed-out invocation recycles its instance', async () => {
    const { created, acquire } = setup();
    const waiting = acquire();
    created[0]!.becomeReady();
    (await waiting).release('timeout');
    assert.equal(created[0]!.stopped, true);
  });

  test('a removed function fails its waiters with FUNCTION_NOT_FOUND; its instances finish their work, then stop', async () => {
    const { created, manager, acquire } = setup();
    const first = acquire();
    created[0]!.becomeReady();
    const leases = [await first, await acquire()];
    const third = acquire();
    assert.equal(created.length, 2, 'the waiter started a second instance');
    const removing = manager.remove('fn');
    await assert.rejects(third, (err) => isNimbusError(err) && err.code === 'FUNCTION_NOT_FOUND');
    assert.equal(created[0]!.stopped, false, 'in-flight work finishes first');
    for (const lease of leases) lease.release('ok');
    created[1]!.becomeReady(); // the start under way ends, and its instance never serves
    await removing;
    assert.deepEqual(created.map((i) => i.stopped), [true, true]);
  });

  test('shutdown fails waiters with SHUTTING_DOWN, waits for starts under way, and refuses new work', async () => {
    const { created, manager, acquire } = setup();
    const waiting = acquire();
    const stopping = manager.shutdown();
    await assert.rejects(waiting, (err) => isNimbusError(err) && err.code === 'SHUTTING_DOWN');
    created[0]!.becomeReady();
    await stopping;
    assert.equal(created[0]!.stopped, true);
    await assert.rejects(acquire(), (err) => isNimbusError(err) && err.code === 'SHUTTING_DOWN');
  });
});
