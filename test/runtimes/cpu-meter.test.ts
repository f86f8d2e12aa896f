import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { CpuMeter } from '../../src/runtimes/node/cpu-meter.cjs';

/** Spins until the process has used `ms` more milliseconds of CPU; answers what it used. */
function burn(ms: number): number {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    const used = process.cpuUsage(start);
    if (used.user + used.system >= ms * 1000) return (used.user + used.system) / 1000;
    for (let i = 0; i < 1000; i++) x += Math.sqrt(x + 1);
  }
}

test('CPU meter: a busy span counts about the CPU it used, waiting counts next to nothing', async () => {
  const meter = new CpuMeter();
  await sleep(10);
  const busy = meter.mark();
  const used = burn(30);
  const busyMs = meter.microsSince(busy) / 1000;
  // The ratio of CPU to busy time is bounded (<= 2): the figure stays within a factor of its CPU.
  assert.ok(busyMs >= used * 0.5 && busyMs <= used * 2.5, `burnt ${used} ms of CPU, metered ${busyMs} ms`);

  const waiting = meter.mark();
  await sleep(100);
  const waitingMs = meter.microsSince(waiting) / 1000;
  assert.ok(waitingMs < 10, `waited 100 ms, metered ${waitingMs} ms`);
});

test('CPU meter: after a second of work the ratio follows the process, and spans still add up', async () => {
  const meter = new CpuMeter();
  let metered = 0;
  let used = 0;
  const began = performance.now();
  // A little over a second of spans, so the ratio is measured again on the way.
  while (performance.now() - began < 1_200) {
    const mark = meter.mark();
    used += burn(20);
    metered += meter.microsSince(mark) / 1000;
    await sleep(5);
  }
  assert.ok(metered >= used * 0.5 && metered <= used * 2, `burnt ${used.toFixed(1)} ms of CPU in spans, metered ${metered.toFixed(1)} ms`);
});
