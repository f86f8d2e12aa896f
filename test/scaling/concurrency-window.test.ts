import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConcurrencyWindow } from '../../src/scaling/concurrency-window.js';

describe('ConcurrencyWindow', () => {
  test('no sample in the window is "no data", not zero', () => {
    const w = new ConcurrencyWindow();
    assert.equal(w.average(6_000, 10_000), undefined);
    w.record(1_000, 5);
    assert.equal(w.average(6_000, 10_000), undefined, 'the only sample is older than the window');
    assert.equal(w.average(60_000, 10_000), 5);
  });

  test('a single sample, or samples at one instant, average to their value', () => {
    const w = new ConcurrencyWindow();
    w.record(0, 40);
    assert.equal(w.average(6_000, 0), 40);
  });

  test('a constant load averages to itself', () => {
    const w = new ConcurrencyWindow();
    for (let t = 0; t <= 60_000; t += 1_000) w.record(t, 35);
    assert.equal(w.average(60_000, 60_000), 35);
    assert.equal(w.average(6_000, 60_000), 35);
  });

  test('samples are weighted by time, so extra samples at request arrival do not skew the average', () => {
    const w = new ConcurrencyWindow();
    w.record(0, 0);
    w.record(1_000, 8); // tick
    w.record(1_001, 8); // three arrivals right after it
    w.record(1_002, 8);
    w.record(1_003, 8);
    w.record(2_000, 0); // tick
    // 8 held over (0, 1003], 0 over (1003, 2000]; a per-sample mean would say 6.4.
    const avg = w.average(2_000, 2_000);
    assert.ok(avg !== undefined && Math.abs(avg - (8 * 1_003) / 2_000) < 1e-9, `got ${avg}`);
  });

  test('the newest sample counts even when averaged at the same instant', () => {
    const w = new ConcurrencyWindow();
    for (let t = 0; t < 6_000; t += 1_000) w.record(t, 0);
    w.record(6_000, 60);
    assert.equal(w.average(6_000, 6_000), 10); // 60 over 1 s of a 6 s window
  });

  test('two records at one instant keep the newest value and one sample', () => {
    const w = new ConcurrencyWindow();
    w.record(1_000, 3);
    w.record(1_000, 5);
    assert.equal(w.size, 1);
    assert.equal(w.average(6_000, 1_000), 5);
  });

  test('non-finite values are dropped without throwing', () => {
    const w = new ConcurrencyWindow();
    w.record(1_000, Number.NaN);
    w.record(Number.POSITIVE_INFINITY, 3);
    assert.equal(w.size, 0);
  });

  test('lastNonZeroAt tracks the last busy sample and survives pruning', () => {
    const w = new ConcurrencyWindow();
    assert.equal(w.lastNonZeroAt(), undefined);
    w.record(1_000, 2);
    w.record(2_000, 0);
    assert.equal(w.lastNonZeroAt(), 1_000);
    for (let t = 3_000; t <= 600_000; t += 1_000) w.record(t, 0);
    assert.equal(w.lastNonZeroAt(), 1_000);
  });

  test('memory is bounded by the largest window asked about', () => {
    const w = new ConcurrencyWindow();
    let t = 0;
    for (; t <= 600_000; t += 1_000) w.record(t, 1);
    assert.ok(w.size <= 62, `default retention keeps about 60 s, held ${w.size}`);
    w.average(120_000, t);
    for (let end = t + 600_000; t <= end; t += 1_000) w.record(t, 1);
    assert.ok(w.size >= 120 && w.size <= 122, `a 120 s window keeps about 120 s, held ${w.size}`);
    assert.equal(w.average(120_000, t - 1_000), 1);
  });
});
