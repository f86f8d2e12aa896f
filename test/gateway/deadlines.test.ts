import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { DeadlineTimers } from '../../src/gateway/deadlines.js';

function setup() {
  const clock = new ManualClock(1_000);
  const timers = new DeadlineTimers(clock);
  const fired: string[] = [];
  const add = (name: string, ms: number) => timers.add(ms, () => fired.push(`${name}@${clock.monotonic()}`));
  return { clock, timers, fired, add };
}

test('a deadline fires when its time has passed, not before', () => {
  const { clock, fired, add, timers } = setup();
  add('a', 500);
  clock.advance(499);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ['a@1500']);
  assert.equal(timers.size, 0);
  clock.advance(10_000);
  assert.deepEqual(fired, ['a@1500'], 'fires once');
});

test('a cancelled deadline never fires; cancelling twice or after firing is harmless', () => {
  const { clock, fired, add, timers } = setup();
  const a = add('a', 100);
  const b = add('b', 100);
  a.cancel();
  a.cancel();
  assert.equal(timers.size, 1);
  clock.advance(100);
  assert.deepEqual(fired, ['b@1100']);
  b.cancel();
  assert.equal(timers.size, 0);
});

test('deadlines of one duration fire in order, each at its own time, after the head was cancelled', () => {
  const { clock, fired, add } = setup();
  const first = add('first', 1_000);
  clock.advance(10);
  add('second', 1_000);
  clock.advance(10);
  add('third', 1_000);
  first.cancel(); // the timer stays armed for it, fires with nothing due, and re-arms
  clock.advance(989);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ['second@2010']);
  clock.advance(9);
  assert.deepEqual(fired, ['second@2010']);
  clock.advance(1);
  assert.deepEqual(fired, ['second@2010', 'third@2020']);
});

test('a shorter deadline added later fires first; durations mix', () => {
  const { clock, fired, add } = setup();
  add('long', 30_000);
  add('short', 50);
  add('medium', 2_000);
  clock.advance(30_000);
  assert.deepEqual(fired, ['short@1050', 'medium@3000', 'long@31000']);
});

test('a callback may add a deadline; close stops all', () => {
  const { clock, timers, fired } = setup();
  timers.add(10, () => {
    fired.push(`outer@${clock.monotonic()}`);
    timers.add(10, () => fired.push(`inner@${clock.monotonic()}`));
  });
  clock.advance(25);
  assert.deepEqual(fired, ['outer@1010', 'inner@1020']);
  timers.add(10, () => fired.push('never'));
  timers.close();
  clock.advance(100);
  assert.deepEqual(fired, ['outer@1010', 'inner@1020']);
  assert.equal(timers.size, 0);
});

test('many deadlines: only the due ones fire, in order', () => {
  const { clock, timers, add, fired } = setup();
  const pending = [];
  for (let i = 0; i < 1_000; i++) {
    pending.push(add(String(i), 5_000));
    clock.advance(1);
  }
  // Every other one finishes in time.
  pending.forEach((deadline, i) => i % 2 === 0 && deadline.cancel());
  assert.equal(timers.size, 500);
  clock.advance(5_000);
  assert.equal(fired.length, 500);
  assert.deepEqual(fired.slice(0, 2), ['1@6001', '3@6003']);
  assert.equal(fired.at(-1), '999@6999');
  assert.equal(timers.size, 0);
});
