import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ms, price, serverTiming } from '../../src/ui/format.js';
import { samplesOf } from '../../src/ui/metrics-text.js';

/** The dashboard's two small readers of platform text: Server-Timing and the Prometheus gauges. */
describe('dashboard parsers', () => {
  test('serverTiming reads each phase with a duration and skips the rest', () => {
    assert.deepEqual(serverTiming('queue;dur=0.4, start;dur=3.6, handler;dur=1.1'), { queue: 0.4, start: 3.6, handler: 1.1 });
    assert.deepEqual(serverTiming('cache;desc="hit", handler;dur=12'), { handler: 12 });
    assert.deepEqual(serverTiming(null), {});
  });

  test('samplesOf reads the labelled samples of one metric only', () => {
    const text = [
      '# HELP nimbus_async_backlog Queued async invocations.',
      '# TYPE nimbus_async_backlog gauge',
      'nimbus_async_backlog{function="orders",state="due"} 12',
      'nimbus_async_backlog{function="orders",state="delayed"} 3',
      'nimbus_async_backlog_extra{function="orders"} 99',
      'nimbus_dead_letters{function="a\\"b"} 1',
      'nimbus_dead_letters 7',
    ].join('\n');
    assert.deepEqual(samplesOf(text, 'nimbus_async_backlog'), [
      { labels: { function: 'orders', state: 'due' }, value: 12 },
      { labels: { function: 'orders', state: 'delayed' }, value: 3 },
    ]);
    assert.deepEqual(samplesOf(text, 'nimbus_dead_letters'), [
      { labels: { function: 'a"b' }, value: 1 },
      { labels: {}, value: 7 },
    ]);
  });

  test('figures: milliseconds and small prices keep their precision', () => {
    assert.equal(ms(0.44), '0.4 ms');
    assert.equal(ms(250), '250 ms');
    assert.equal(ms(12_345), '12.3 s');
    assert.equal(ms(null), '–');
    assert.equal(price(0.0000166667), '$0.0000166667');
    assert.equal(price(0.2), '$0.2');
  });
});
