import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FunctionPool } from '../../src/backends/local/function-pool.js';
import type { LocalInstance } from '../../src/backends/local/instance.js';
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
 * A stand-in instance whose start the test completes by hand: the pool's decisions (who waits,
 * how many start, what is reaped when) are what is under test here, not processes.
 */
class FakeInstance {
  static count = 0;
  readonly id = `fake-${++FakeInstance.count}`;
  state: LocalInstance['state'] = 'starting';
  inflight = 0;
  lastUsed = 0;
  readyAt = Number.POSITIVE_INFINITY;
  startMs = 0;
  dispatcher = {} as never;
  exitReason: string | undefined;
  onExit: (i: LocalInstance) => void = () => undefined;
  stopped = false;
  private finishStart!: (err?: Error) => void;

  constructor(
    readonly record: FunctionRecord,
    private readonly clock: ManualClock,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.finishStart = (err) => (err ? reject(err) : resolve());
    });
  }

  becomeReady(startMs = 5): void {
    this.state = 'ready';
    this.lastUsed = this.clock.now();
    this.readyAt = this.clock.monotonic();
    this.startMs = startMs;
    this.finishStart();
  }

  failStart(err: Error): void {
    this.state = 'stopped';
    this.finishStart(err);
  }

  drain(): Promise<void> {
    this.state = 'draining';
    if (this.inflight === 0) return this.stop();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    this.stopped = true;
    return Promise.resolve();
  }

  kill(): void {
    void this.stop();
  }
}

function setup(maxQueue = 100, spec: Partial<FunctionRecord['spec']> = {}) {
  const clock = new ManualClock(1000);
  const created: FakeInstance[] = [];
  const pool = new FunctionPool(record(1, spec), {
    clock,
    maxQueue,
    maxQueueWaitMs: 5000,
    createInstance: (r) => {
      const instance = new FakeInstance(r, clock);
      created.push(instance);
      return instance as unknown as LocalInstance;
    },
  });
  return { clock, created, pool };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('FunctionPool', () => {
  test('the first request starts an instance and is served cold; the next is warm', async () => {
    const { clock, created, pool } = setup();
    const first = pool.acquire(record(1), new AbortController().signal);
    assert.equal(created.length, 1);
    clock.advance(30);
    created[0]!.becomeReady(30);
    const lease = await first;
    assert.equal(lease.coldStart, true);
    assert.equal(lease.startMs, 30);
    assert.equal(lease.waitMs, 30);
    const warm = await pool.acquire(record(1), new AbortController().signal);
    assert.equal(warm.coldStart, false);
    assert.equal(pool.status().inflight, 2);
  });

  test('waiters are served in arrival order and instances start as the queue needs, up to maxInstances', async () => {
    const { created, pool } = setup();
    const order: number[] = [];
    const leases = Array.from({ length: 6 }, (_, i) => pool.acquire(record(1), new AbortController().signal).then((l) => (order.push(i), l)));
    // 6 waiters at concurrency 2 need 3 instances, but maxInstances is 2.
    assert.equal(created.length, 2);
    created[0]!.becomeReady();
    created[1]!.becomeReady();
    await tick();
    assert.deepEqual(order, [0, 1, 2, 3]);
    (await leases[0]!).release('ok');
    await tick();
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(pool.status().queued, 1);
  });

  test('a full queue answers FUNCTION_OVERLOADED at once, with Retry-After', async () => {
    const { pool } = setup(2);
    void pool.acquire(record(1), new AbortController().signal).catch(() => undefined);
    void pool.acquire(record(1), new AbortController().signal).catch(() => undefined);
    await assert.rejects(pool.acquire(record(1), new AbortController().signal), (err) => {
      return isNimbusError(err) && err.code === 'FUNCTION_OVERLOADED' && err.headers?.['retry-after'] === '1';
    });
  });

  test('an aborted waiter leaves the queue', async () => {
    const { pool } = setup();
    const controller = new AbortController();
    const waiting = pool.acquire(record(1), controller.signal);
    controller.abort(new Error('deadline'));
    await assert.rejects(waiting, /deadline/);
    assert.equal(pool.status().queued, 0);
  });

  test('a failed start fails the waiters with its reason', async () => {
    const { created, pool } = setup();
    const waiting = pool.acquire(record(1), new AbortController().signal);
    created[0]!.failStart(new Error('handler failed to load'));
    await assert.rejects(waiting, /handler failed to load/);
    assert.equal(pool.status().instances, 0);
  });

  test('scale to zero after the idle timeout, never with work in flight', async () => {
    const { clock, created, pool } = setup();
    const tickFor = (ms: number) => {
      for (let t = 0; t < ms; t += 1000) {
        clock.advance(1000);
        pool.tick(clock.now());
      }
    };
    const lease = pool.acquire(record(1), new AbortController().signal);
    created[0]!.becomeReady();
    const busy = await lease;
    tickFor(120_000);
    assert.equal(created[0]!.stopped, false, 'an instance with work in flight is not stopped');
    assert.equal(pool.desired, 1);
    busy.release('ok');
    tickFor(58_000);
    assert.equal(created[0]!.stopped, false, 'still within the idle timeout (60 s)');
    tickFor(4000);
    assert.equal(created[0]!.stopped, true);
    assert.equal(pool.desired, 0);
  });

  test('min instances run without traffic and are never scaled away', () => {
    const { clock, created, pool } = setup(100, { minInstances: 2 });
    pool.tick(clock.now());
    assert.equal(created.length, 2);
    for (const instance of created) instance.becomeReady();
    for (let i = 0; i < 600; i++) {
      clock.advance(1000);
      pool.tick(clock.now());
    }
    assert.equal(created.filter((i) => i.stopped).length, 0);
    assert.equal(pool.desired, 2);
    assert.equal(pool.idle, false, 'a pool with min instances is kept');
  });

  test('sustained load grows the instance count up to maxInstances', async () => {
    const { clock, created, pool } = setup(100, { maxInstances: 5, concurrency: 2 });
    const first = pool.acquire(record(1), new AbortController().signal);
    created[0]!.becomeReady();
    await first;
    // 12 requests in flight or waiting: at concurrency 2 and 70% utilisation that wants 9, capped at 5.
    for (let i = 0; i < 11; i++) void pool.acquire(record(1), new AbortController().signal).catch(() => undefined);
    // (Within the 5 s queue bound: past it the waiters leave and the demand falls.)
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      pool.tick(clock.now());
    }
    assert.equal(pool.desired, 5);
    assert.equal(created.length, 5);
  });

  test('an idle timeout shorter than 60 s shortens the stable window: the count follows the load down within it', async () => {
    const { clock, created, pool } = setup(100, { maxInstances: 10, concurrency: 1, idleTimeoutMs: 10_000 });
    const tickFor = (ms: number) => {
      for (let t = 0; t < ms; t += 1000) {
        clock.advance(1000);
        pool.tick(clock.now());
        for (const instance of created) if (instance.state === 'starting') instance.becomeReady();
      }
    };
    const pending = Array.from({ length: 8 }, () => pool.acquire(record(1), new AbortController().signal));
    for (const instance of created) instance.becomeReady();
    const leases = await Promise.all(pending);
    tickFor(30_000); // 8 in flight for 30 s
    assert.equal(pool.desired, 10, 'ceil(8 / 0.7) = 12, capped at 10');
    for (const lease of leases.slice(1)) lease.release('ok');
    // One request stays in flight, so the function is never idle: only the windows bring it down.
    tickFor(15_000);
    // Over a 10 s window the average is 1: ceil(1 / 0.7) = 2. Over 60 s it would still be
    // (8 * 30 + 15) / 45 = 5.7, asking for 9.
    assert.equal(pool.desired, 2, pool.reason);
    assert.equal(created.filter((i) => !i.stopped).length, 2, 'the surplus instances were stopped');
  });

  test('a request that waits longer than the queue bound gets FUNCTION_OVERLOADED', async () => {
    const { clock, pool } = setup();
    const waiting = pool.acquire(record(1), new AbortController().signal);
    clock.advance(4999);
    assert.equal(pool.status().queued, 1);
    clock.advance(1);
    await assert.rejects(waiting, (err) => isNimbusError(err) && err.code === 'FUNCTION_OVERLOADED' && err.headers?.['retry-after'] === '1');
    assert.equal(pool.status().queued, 0);
  });

  test('a new version drains the old instances and starts new ones', async () => {
    const { created, pool } = setup();
    const old = pool.acquire(record(1), new AbortController().signal);
    created[0]!.becomeReady();
    const oldLease = await old;
    const next = pool.acquire(record(2), new AbortController().signal);
    assert.equal(created[0]!.state, 'draining');
    assert.equal(created.length, 2);
    assert.equal(created[1]!.record.version, 2);
    created[1]!.becomeReady();
    assert.equal((await next).instanceId, created[1]!.id, 'served by the new version');
    oldLease.release('ok');
    assert.equal(created[0]!.stopped, true, 'the old instance stops once its last request is done');
  });

  test('a timed-out invocation recycles its instance', async () => {
    const { created, pool } = setup();
    const waiting = pool.acquire(record(1), new AbortController().signal);
    created[0]!.becomeReady();
    (await waiting).release('timeout');
    assert.equal(created[0]!.stopped, true);
  });
});
