import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { isNimbusError } from '../../src/core/errors.js';
import {
  decide,
  INITIAL_SCALING_STATE,
  SCALING_DEFAULTS,
  scalingSettings,
  type ScalingDecision,
  type ScalingSettings,
} from '../../src/scaling/autoscaler.js';
import { ConcurrencyWindow } from '../../src/scaling/concurrency-window.js';

function settings(overrides: Partial<ScalingSettings> = {}): Readonly<ScalingSettings> {
  return scalingSettings({ concurrency: 10, minInstances: 0, maxInstances: 20, idleTimeoutMs: 300_000, ...overrides });
}

/**
 * The autoscaler loop as the platform would run it, on a manual clock: every second, sample the
 * load, decide, and (here) get the desired instances at once, so tests read like a timeline.
 */
class Sim {
  readonly clock = new ManualClock(0);
  readonly window = new ConcurrencyWindow();
  readonly log: { at: number; d: ScalingDecision }[] = [];
  state = INITIAL_SCALING_STATE;
  load = 0;

  constructor(
    readonly settings: Readonly<ScalingSettings>,
    public current = 0,
  ) {
    this.clock.every(1_000, () => this.step());
  }

  /** Samples the load now and decides; the ticker calls it, tests may call it once by hand. */
  step(): ScalingDecision {
    const now = this.clock.now();
    this.window.record(now, this.load);
    const d = decide({ settings: this.settings, window: this.window, current: this.current, state: this.state, now });
    this.state = d.state;
    this.current = d.desired;
    this.log.push({ at: now, d });
    return d;
  }

  run(ms: number): ScalingDecision {
    this.clock.advance(ms);
    return this.last();
  }

  last(): ScalingDecision {
    const entry = this.log[this.log.length - 1];
    assert.ok(entry, 'no decision yet');
    return entry.d;
  }

  at(ms: number): ScalingDecision {
    const entry = this.log.find((e) => e.at === ms);
    assert.ok(entry, `no decision at ${ms}`);
    return entry.d;
  }

  /** Distinct desired counts in order, e.g. [8, 4, 2, 1]. */
  steps(from = 0): number[] {
    const out: number[] = [];
    for (const { at, d } of this.log) if (at >= from && out[out.length - 1] !== d.desired) out.push(d.desired);
    return out;
  }
}

describe('decide', () => {
  test('a burst from zero panics and asks for all of it at once', () => {
    const sim = new Sim(settings());
    sim.load = 40;
    const d = sim.step();
    assert.equal(d.desired, 6); // ceil(40 / (10 * 0.7))
    assert.equal(d.panic, true);
    assert.equal(d.reason, 'panic: 40 in flight over 6s');
    assert.equal(d.state.panicUntil, 60_000);
  });

  test('a spike on running instances panics and scales up fast, never down', () => {
    const sim = new Sim(settings(), 2);
    sim.load = 14;
    sim.run(60_000);
    assert.deepEqual(sim.steps(), [2]);
    sim.load = 100;
    const first = sim.run(1_000);
    assert.equal(first.panic, true);
    assert.ok(first.desired >= 5, `first panic step asks for ${first.desired}`);
    sim.run(6_000);
    const during = sim.steps(61_000);
    assert.deepEqual([...during].sort((a, b) => a - b), during, 'monotonic while panicking');
    assert.equal(sim.last().desired, 15); // ceil(100 / 7)
  });

  test('panic starts at exactly twice the running capacity, not below', () => {
    // Two instances ran 14 in flight for a minute; then the last panic window (6 s) held `burst`.
    const decideAfter = (burst: number) => {
      const window = new ConcurrencyWindow();
      for (let t = 0; t <= 60_000; t += 1_000) window.record(t, t > 54_000 ? burst : 14);
      return decide({ settings: settings(), window, current: 2, state: INITIAL_SCALING_STATE, now: 60_000 });
    };
    // 28 needs ceil(28 / 7) = 4 instances: exactly twice the 2 running.
    const atThreshold = decideAfter(28);
    assert.equal(atThreshold.panic, true);
    assert.equal(atThreshold.desired, 4, 'the panic count, not the stable one (3)');
    // 21 needs 3: 1.5 times, below the threshold, so the stable average decides.
    const below = decideAfter(21);
    assert.equal(below.panic, false);
    assert.equal(below.desired, 3);
    assert.match(below.reason, /^stable: /);
  });

  test('constant load gives a stable count without flapping or panic', () => {
    const sim = new Sim(settings(), 5);
    sim.load = 35;
    sim.run(600_000);
    assert.deepEqual(sim.steps(), [5]);
    assert.ok(sim.log.every(({ d }) => !d.panic && d.reason.startsWith('stable: 35 in flight over 1m')));
  });

  test('panic lasts one stable window, then scale down is rate limited', () => {
    const sim = new Sim(settings());
    sim.load = 56;
    sim.run(1_000);
    assert.equal(sim.last().desired, 8);
    sim.run(9_000);
    sim.load = 3; // the burst is over at 10 s
    sim.run(200_000);
    for (const { at, d } of sim.log.filter((e) => e.at < 61_000)) assert.equal(d.desired, 8, `no scale down in panic at ${at}`);
    assert.equal(sim.at(60_000).panic, true);
    const after = sim.at(61_000);
    assert.equal(after.panic, false);
    assert.equal(after.desired, 4);
    assert.match(after.reason, /^stable: .* scale down limited to 4$/);
    assert.deepEqual(sim.steps(), [8, 4, 2, 1]);
  });

  test('when load stops it keeps one instance until the idle timeout, then scales to zero', () => {
    const sim = new Sim(settings(), 1);
    sim.load = 7;
    sim.run(120_000);
    sim.load = 0; // last busy sample was at 120 s
    sim.run(300_000);
    const waiting = sim.log.filter((e) => e.at < 420_000);
    assert.ok(waiting.every(({ d }) => d.desired === 1), 'one instance until the idle timeout');
    assert.match(sim.at(419_000).reason, /idle 4m59s of 5m before scale to zero$/);
    const d = sim.at(420_000);
    assert.equal(d.desired, 0);
    assert.equal(d.reason, 'idle 5m: scale to zero');
    sim.run(60_000);
    assert.equal(sim.last().desired, 0);
  });

  test('minInstances is never undercut', () => {
    const sim = new Sim(settings({ minInstances: 2 }), 5);
    sim.run(900_000);
    assert.ok(sim.log.every(({ d }) => d.desired >= 2));
    assert.deepEqual(sim.steps(), [2]); // floor(5 / 2) = 2 already
    assert.match(sim.last().reason, /held at min 2$/);
  });

  test('maxInstances caps even a panic', () => {
    const sim = new Sim(settings({ maxInstances: 3 }));
    sim.load = 100;
    const d = sim.step();
    assert.equal(d.desired, 3);
    assert.equal(d.panic, true);
    assert.match(d.reason, /capped at max 3$/);
  });

  test('an empty or stale window keeps the current count, clamped', () => {
    const s = settings();
    const window = new ConcurrencyWindow();
    const base = { settings: s, window, state: INITIAL_SCALING_STATE, now: 10_000 };
    const d = decide({ ...base, current: 4 });
    assert.equal(d.desired, 4);
    assert.equal(d.reason, 'no metrics in last 6s: keep 4');
    assert.equal(decide({ ...base, current: 30 }).desired, 20);
    window.record(1_000, 50); // only older than the panic window
    assert.equal(decide({ ...base, current: 4 }).desired, 4);
  });

  test('an untouched function with no instances stays at zero', () => {
    const sim = new Sim(settings());
    const d = sim.run(10_000);
    assert.equal(d.desired, 0);
    assert.equal(d.reason, 'idle');
  });

  test('running instances with no demand ever seen get a full idle timeout', () => {
    const sim = new Sim(settings({ idleTimeoutMs: 60_000 }), 1);
    sim.run(1_000);
    assert.equal(sim.last().state.lastActiveAt, 1_000, 'the idle clock starts at the first decision');
    sim.run(59_000);
    assert.equal(sim.last().desired, 1);
    sim.run(1_000);
    assert.equal(sim.last().desired, 0);
  });
});

describe('scalingSettings', () => {
  test('fills the tunables from the defaults and freezes', () => {
    const s = settings();
    assert.equal(s.targetUtilization, SCALING_DEFAULTS.targetUtilization);
    assert.equal(s.stableWindowMs, 60_000);
    assert.equal(s.panicWindowMs, 6_000);
    assert.ok(Object.isFrozen(s));
  });

  test('rejects bad values with the key, the value and the range', () => {
    const cases: [Partial<ScalingSettings>, RegExp][] = [
      [{ targetUtilization: 1.5 }, /^targetUtilization is 1\.5; it must be above 0 and at most 1$/],
      [{ maxScaleDownRate: 1 }, /^maxScaleDownRate is 1; it must be above 1$/],
      [{ panicWindowMs: 120_000 }, /^panicWindowMs is 120000; it must be at least 1 and at most 60000$/],
      [{ minInstances: 30 }, /^minInstances is 30; it must be at least 0 and at most 20$/],
      [{ concurrency: Number.NaN }, /^concurrency is NaN/],
    ];
    for (const [overrides, message] of cases) {
      assert.throws(
        () => settings(overrides),
        (err: unknown) => isNimbusError(err) && err.code === 'INVALID_REQUEST' && message.test(err.message),
      );
    }
  });
});
