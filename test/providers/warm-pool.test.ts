import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProcessProfile, RuntimeProcess } from '../../src/providers/local/runtime-process.js';
import { REFILL_IDLE_CORES, REFILL_MAX_WAIT_MS, REFILL_RECHECK_MS, WarmPool } from '../../src/providers/local/warm-pool.js';
import type { CpuTimes } from '../../src/providers/local/cpu-idle.js';
import { ManualClock } from '../../src/core/clock.js';
import { DEFAULT_INSTANCE_LIMITS } from '../../src/core/spec.js';

const NODE: ProcessProfile = { runtime: 'node', memoryMb: 256, network: 'outbound', limits: DEFAULT_INSTANCE_LIMITS };
const PYTHON: ProcessProfile = { ...NODE, runtime: 'python' };

/** A stand-in process: the pool's bookkeeping (when it spawns, what it hands out) is under test. */
class FakeProcess {
  alive = true;
  stopped = false;
  private readonly exitListeners: Array<() => void> = [];
  constructor(readonly profile: ProcessProfile) {}
  prime(): Promise<void> {
    return Promise.resolve();
  }
  onExit(listener: () => void): void {
    this.exitListeners.push(listener);
  }
  stop(): Promise<void> {
    this.stopped = true;
    this.die();
    return Promise.resolve();
  }
  die(): void {
    this.alive = false;
    for (const listener of this.exitListeners.splice(0)) listener();
  }
}

/**
 * A 2-core machine on the manual clock: its CPU counters advance with the clock, `busy` of its
 * cores working (settable at any time; it applies to the time passed since the last reading).
 */
function fakeMachine(clock: ManualClock) {
  const machine = { busy: 0, reads: 0, times: { idle: 0, total: 0, cores: 2 } as CpuTimes, lastAt: clock.now() };
  const read = (): CpuTimes => {
    machine.reads++;
    const elapsed = clock.now() - machine.lastAt;
    machine.lastAt = clock.now();
    machine.times = { idle: machine.times.idle + elapsed * (2 - machine.busy), total: machine.times.total + elapsed * 2, cores: 2 };
    return machine.times;
  };
  return { machine, read };
}

/** A pool over fake processes on a fake machine (idle unless told otherwise), with every spawn recorded. */
function fixture(refillDelayMs?: number, always: ProcessProfile[] = [NODE]) {
  const clock = new ManualClock(1_000);
  const { machine, read } = fakeMachine(clock);
  const spawned: FakeProcess[] = [];
  const pool = new WarmPool(
    (profile) => {
      const proc = new FakeProcess(profile);
      spawned.push(proc);
      return Promise.resolve(proc as unknown as RuntimeProcess);
    },
    clock,
    { size: 1, always, retireAfterMs: 60_000, cpuTimes: read, ...(refillDelayMs === undefined ? {} : { refillDelayMs }) },
    (err) => assert.fail(`unexpected spawn error: ${String(err)}`),
  );
  return { clock, spawned, pool, machine };
}

/** Lets the spawn and prime promises settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A pool (refill delay 50 ms) whose spare was taken, on a machine with `busy` of its 2 cores working. */
async function takenWhileBusy(busy: number) {
  const f = fixture(50);
  await settle();
  f.machine.busy = busy;
  f.pool.take(NODE);
  await settle();
  return f;
}

describe('WarmPool', () => {
  test('shutdown waits for a spare still starting, and stops it', async () => {
    let finish: (proc: RuntimeProcess) => void = () => undefined;
    const slow = new FakeProcess(NODE);
    const pool = new WarmPool(
      () => new Promise<RuntimeProcess>((resolve) => (finish = resolve)),
      new ManualClock(1_000),
      { size: 1, always: [NODE], retireAfterMs: 60_000 },
      (err) => assert.fail(`unexpected spawn error: ${String(err)}`),
    );
    let done = false;
    const shutdown = pool.shutdown().then(() => (done = true));
    await settle();
    assert.equal(done, false, 'shutdown returned while a spare was still starting');
    finish(slow as unknown as RuntimeProcess);
    await shutdown;
    assert.equal(slow.stopped, true);
  });

  test('starts a spare for each pinned profile and hands each out once', async () => {
    const { spawned, pool } = fixture();
    await settle();
    assert.equal(spawned.length, 1);
    assert.equal(pool.spareCount, 1);
    assert.equal(pool.take(NODE), spawned[0] as unknown as RuntimeProcess);
    assert.equal(pool.take(NODE), undefined, 'a taken spare is never handed out again');
  });

  test('on an idle machine, refills after the delay, so the spawn does not compete with the cold start', async () => {
    const { clock, spawned, pool, machine } = fixture(50);
    await settle();
    pool.take(NODE);
    assert.equal(machine.reads, 0, 'nothing is read in the take, which is on the cold start path');
    await settle();
    assert.equal(spawned.length, 1, 'no spawn at the take');
    clock.advance(49);
    await settle();
    assert.equal(spawned.length, 1);
    clock.advance(1);
    await settle();
    assert.equal(spawned.length, 2, 'the refill starts once the delay is over and a look found the machine idle');
    assert.equal(pool.spareCount, 1);
  });

  test('a refill waits while the machine has no idle core to spare, and starts once it has', async () => {
    // Half the idle CPU a refill waits for.
    const { clock, spawned, pool, machine } = await takenWhileBusy(2 - REFILL_IDLE_CORES / 2);
    clock.advance(50);
    await settle();
    assert.equal(spawned.length, 1, 'no spawn while the cores are (nearly) full');
    clock.advance(REFILL_RECHECK_MS * 10);
    await settle();
    assert.equal(spawned.length, 1, 'still none: each look sees the machine as busy as before');
    // The next span is idle enough: the look at its end spawns.
    machine.busy = 2 - REFILL_IDLE_CORES;
    clock.advance(REFILL_RECHECK_MS);
    await settle();
    assert.equal(spawned.length, 2, 'the refill starts once REFILL_IDLE_CORES were idle');
    assert.equal(pool.spareCount, 1);
  });

  test('a refill waits for idle CPU at most REFILL_MAX_WAIT_MS after the take', async () => {
    const { clock, spawned } = await takenWhileBusy(2);
    clock.advance(REFILL_MAX_WAIT_MS - 1);
    await settle();
    assert.equal(spawned.length, 1, 'the machine was never idle: no spawn before the cap');
    clock.advance(REFILL_RECHECK_MS);
    await settle();
    assert.equal(spawned.length, 2, 'a machine busy for longer still gets its spare');
  });

  test('a take during a waiting refill adds no second one', async () => {
    const { clock, spawned, pool, machine } = await takenWhileBusy(2);
    clock.advance(50 + REFILL_RECHECK_MS);
    pool.take(NODE);
    machine.busy = 0;
    clock.advance(REFILL_RECHECK_MS);
    await settle();
    assert.equal(spawned.length, 2);
    clock.advance(REFILL_MAX_WAIT_MS);
    await settle();
    assert.equal(spawned.length, 2);
  });

  test('takes within the delay schedule one refill, not one each', async () => {
    const { clock, spawned, pool } = fixture(50);
    await settle();
    pool.take(NODE);
    pool.take(NODE);
    pool.take(NODE);
    await settle();
    clock.advance(50);
    await settle();
    assert.equal(spawned.length, 2);
    assert.equal(pool.spareCount, 1);
  });

  test('a zero delay refills at the take', async () => {
    const { spawned, pool } = fixture(0);
    await settle();
    pool.take(NODE);
    await settle();
    assert.equal(spawned.length, 2);
  });

  test('a spare that dies while waiting is skipped and replaced', async () => {
    const { clock, spawned, pool } = fixture(10);
    await settle();
    spawned[0]!.die();
    assert.equal(pool.spareCount, 0);
    assert.equal(pool.take(NODE), undefined);
    await settle();
    clock.advance(10);
    await settle();
    assert.equal(pool.take(NODE), spawned[1] as unknown as RuntimeProcess);
  });

  test('unpinned profiles are kept warm once asked for, and retired when unused', async () => {
    const { clock, spawned, pool } = fixture(10);
    await settle();
    assert.equal(pool.take(PYTHON), undefined, 'nothing warm for a profile never asked for');
    await settle();
    clock.advance(10);
    await settle();
    assert.equal(spawned.at(-1)!.profile.runtime, 'python');
    assert.equal(pool.spareCount, 2);
    clock.advance(60_000);
    pool.retireUnused(clock.now());
    assert.equal(spawned.at(-1)!.stopped, true);
    assert.equal(pool.spareCount, 1, 'the pinned node spare stays');
  });

  test('shutdown cancels a refill waiting for idle CPU', async () => {
    const { clock, spawned, pool } = await takenWhileBusy(2);
    clock.advance(50 + REFILL_RECHECK_MS * 3);
    await pool.shutdown();
    clock.advance(REFILL_MAX_WAIT_MS);
    await settle();
    assert.equal(spawned.length, 1);
  });

  test('shutdown stops the spares and cancels a scheduled refill', async () => {
    const { clock, spawned, pool } = fixture(50);
    await settle();
    pool.take(NODE);
    await pool.shutdown();
    clock.advance(100);
    await settle();
    assert.equal(spawned.length, 1);
    assert.equal(pool.take(NODE), undefined);
  });
});
