/**
 * MinuteStats: counts, errors, cold starts and percentiles per minute and over a window, empty
 * minutes, a slot reused a day later, and a removed function forgotten.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MinuteStats } from '../../src/telemetry/minute-stats.js';
import { endedEvent } from './ended-samples.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0);
const MINUTE = 60_000;

const at = (startedAt: number, totalMs: number, extra: Parameters<typeof endedEvent>[0] = {}) =>
  endedEvent({ startedAt, timings: { queueMs: 0, startMs: 0, handlerMs: totalMs, totalMs }, ...extra });

test('a window adds up its minutes; percentiles come within their bucket (±12%)', () => {
  const stats = new MinuteStats();
  // 100 invocations in minute 0 taking 1..100 ms, 2 errors and a cold start in minute 2.
  for (let i = 1; i <= 100; i++) stats.record(at(T0 + i * 100, i));
  stats.record(at(T0 + 2 * MINUTE, 5, { status: 500 }));
  stats.record(at(T0 + 2 * MINUTE + 1, 5, { outcome: 'error', status: undefined, coldStart: true }));
  const span = stats.span('fn', 5, T0 + 2 * MINUTE + 30_000);
  assert.equal(span.invocations, 102);
  assert.equal(span.errors, 2);
  assert.equal(span.coldStarts, 1);
  assert.ok(span.p50Ms! >= 50 / 1.12 && span.p50Ms! <= 50 * 1.12, `p50 ${span.p50Ms}`);
  assert.ok(span.p99Ms! >= 99 / 1.12 && span.p99Ms! <= 99 * 1.12, `p99 ${span.p99Ms}`);
  assert.equal(stats.span('fn', 1, T0 + 2 * MINUTE).invocations, 2, 'a one-minute window holds the current minute only');
  assert.deepEqual(stats.span('other', 5, T0), { invocations: 0, errors: 0, coldStarts: 0, p50Ms: null, p99Ms: null });
});

test('per minute: oldest first, one bucket per minute, empty ones with zeros and nulls', () => {
  const stats = new MinuteStats();
  stats.record(at(T0 + 10, 3));
  stats.record(at(T0 + 2 * MINUTE + 10, 8));
  const buckets = stats.perMinute('fn', 4, T0 + 2 * MINUTE + 59_000);
  assert.deepEqual(buckets.map((b) => [new Date(b.start).toISOString(), b.invocations, b.p50Ms === null]), [
    [new Date(T0 - MINUTE).toISOString(), 0, true],
    [new Date(T0).toISOString(), 1, false],
    [new Date(T0 + MINUTE).toISOString(), 0, true],
    [new Date(T0 + 2 * MINUTE).toISOString(), 1, false],
  ]);
});

test('a minute slot is reused a day later, without yesterday in it; older events are ignored', () => {
  const stats = new MinuteStats();
  stats.record(at(T0, 3));
  stats.record(at(T0 + 1440 * MINUTE, 3));
  assert.equal(stats.span('fn', 1440, T0 + 1440 * MINUTE).invocations, 1);
  stats.record(at(T0, 3));
  assert.equal(stats.span('fn', 1440, T0 + 1440 * MINUTE).invocations, 1, 'an event older than the day kept is dropped');
  stats.forget('fn');
  assert.deepEqual(stats.names(), []);
});
