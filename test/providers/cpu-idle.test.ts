import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { describe, test } from 'node:test';
import { idleCores, machineCpuTimes, parseProcStat } from '../../src/providers/local/cpu-idle.js';

describe('cpu-idle', () => {
  test('idleCores averages the idle share over the span, in cores', () => {
    const before = { idle: 1_000, total: 4_000, cores: 4 };
    // 400 ms of wall time on 4 cores: 1,600 ms of CPU time, 600 of it idle.
    assert.equal(idleCores(before, { idle: 1_600, total: 5_600, cores: 4 }), 1.5);
    assert.equal(idleCores(before, { idle: 1_000, total: 5_600, cores: 4 }), 0);
    assert.equal(idleCores(before, { idle: 2_600, total: 5_600, cores: 4 }), 4);
  });

  test('idleCores says nothing when the counters did not move', () => {
    const reading = { idle: 10, total: 20, cores: 2 };
    assert.equal(idleCores(reading, { ...reading }), undefined);
  });

  test('parseProcStat sums the aggregate line: I/O wait is idle, stolen time busy', () => {
    const text = 'cpu  100 5 50 800 20 3 7 15 40 0\ncpu0 50 2 25 400 10 1 3 7 20 0\nintr 12345\n';
    // user+nice+system 155, idle 800 + iowait 20, irq+softirq 10, steal 15; guest (40) is inside user.
    assert.deepEqual(parseProcStat(text, 2), { idle: 820, total: 1000, cores: 2 });
    assert.equal(parseProcStat('intr 1 2 3\n', 2), undefined, 'not the aggregate line');
    assert.equal(parseProcStat('cpu  1 2 x 4\n', 2), undefined, 'a field that is not a number');
  });

  test('machineCpuTimes reads this machine: every core, idle within the total, counters that only grow', () => {
    const first = machineCpuTimes();
    assert.equal(first.cores, cpus().length);
    assert.ok(first.idle > 0 && first.idle <= first.total, `idle ${first.idle} of ${first.total}`);
    // Burn some CPU so the busy counters move past a clock tick.
    const until = Date.now() + 30;
    while (Date.now() < until);
    const second = machineCpuTimes();
    assert.ok(second.total > first.total, 'the total grew');
    assert.ok(second.idle >= first.idle, 'idle never shrinks');
    const idle = idleCores(first, second)!;
    assert.ok(idle >= 0 && idle <= second.cores, `idle cores ${idle}`);
  });
});
