import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/core/clock.js';
import { type CronSettings, cronSource, LAST_TICK_KEY } from '../../src/triggers/sources/cron.js';
import type { SourceContext, TriggerSource } from '../../src/triggers/types.js';
import { MemoryState, RecordingSink, RecordingStatus } from './recording-sink.js';

/** 2026-01-05T10:00:00Z, a Monday. */
const START = Date.UTC(2026, 0, 5, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** Lets the source's promise chains run (delivery, state write, next timer). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function cron(settings: CronSettings, options: { clock?: ManualClock; state?: MemoryState; sink?: RecordingSink } = {}) {
  const clock = options.clock ?? new ManualClock(START);
  const sink = options.sink ?? new RecordingSink();
  const status = new RecordingStatus();
  const state = options.state ?? new MemoryState();
  const context: SourceContext<CronSettings> = {
    trigger: 'tick',
    function: 'target',
    settings: cronSource.settings.parse(settings),
    sink,
    status,
    state,
    clock,
    logger: pino({ level: 'silent' }),
    secrets: {},
  };
  const source = cronSource.create?.(context) as TriggerSource;
  /** Moves the clock second by second (each step lets the source react), `seconds` times. */
  const advance = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      await settle();
    }
  };
  return { source, clock, sink, status, state, advance };
}

describe('cron source', () => {
  test('a seconds schedule ticks through the clock with deterministic ids and CloudEvents attributes; no data means an empty body', async () => {
    const { source, sink, status, advance } = cron({ schedule: '* * * * * *' });
    await source.start();
    assert.equal(status.last?.state, 'active');
    assert.equal(sink.events.length, 0, 'nothing before the first tick');
    await advance(3);
    assert.deepEqual(sink.events.map((e) => e.id), [1, 2, 3].map((s) => `tick@${iso(START + s * 1000)}`));
    const [first] = sink.events;
    assert.equal(first?.type, 'dev.nimbus.cron.tick');
    assert.equal(first?.source, 'urn:nimbus:trigger:tick');
    assert.equal(first?.subject, '* * * * * *');
    assert.equal(first?.time, START + 1000);
    assert.equal(first?.data.length, 0);
    assert.equal(first?.contentType, undefined);
    await source.stop();
    await advance(3);
    assert.equal(sink.events.length, 3, 'no tick after stop');
  });

  test('data is sent as JSON', async () => {
    const { source, sink, advance } = cron({ schedule: '*/2 * * * * *', data: { report: 'daily', n: [1, 2] } });
    await source.start();
    await advance(2);
    assert.equal(sink.events[0]?.contentType, 'application/json');
    assert.deepEqual(JSON.parse(sink.events[0]?.data.toString() ?? ''), { report: 'daily', n: [1, 2] });
    await source.stop();
  });

  test('the schedule is read in its time zone', async () => {
    // 09:00 in New York is 14:00 UTC in January; the clock starts at 10:00 UTC.
    const { source, sink, clock } = cron({ schedule: '0 9 * * *', timezone: 'America/New_York' });
    await source.start();
    clock.advance(4 * 3600_000 - 1);
    await settle();
    assert.equal(sink.events.length, 0, 'not at 13:59:59.999 UTC');
    clock.advance(1);
    await settle();
    assert.deepEqual(sink.events.map((e) => e.time), [Date.UTC(2026, 0, 5, 14, 0, 0)]);
    await source.stop();
  });

  test('the last tick is kept in the source state; a restart at the same moment does not fire it again', async () => {
    const first = cron({ schedule: '* * * * * *', catchUp: true });
    await first.source.start();
    await first.advance(2);
    await first.source.stop();
    assert.equal(await first.state.get(LAST_TICK_KEY), START + 2000);
    const again = cron({ schedule: '* * * * * *', catchUp: true }, { clock: first.clock, state: first.state });
    await again.source.start();
    await settle();
    assert.equal(again.sink.events.length, 0, 'the tick of the restart second was delivered already');
    await again.advance(1);
    assert.deepEqual(again.sink.events.map((e) => e.time), [START + 3000]);
    await again.source.stop();
  });

  test('ticks missed while stopped are not replayed', async () => {
    const first = cron({ schedule: '0 * * * * *' });
    await first.source.start();
    first.clock.advance(60_000);
    await settle();
    await first.source.stop();
    first.clock.advance(5 * 60_000 + 30_000);
    const again = cron({ schedule: '0 * * * * *' }, { clock: first.clock, state: first.state });
    await again.source.start();
    await settle();
    assert.equal(again.sink.events.length, 0);
    again.clock.advance(30_000);
    await settle();
    assert.deepEqual(again.sink.events.map((e) => e.time), [START + 7 * 60_000]);
    await again.source.stop();
  });

  test('catchUp fires only the most recent missed tick, at once, then follows the schedule', async () => {
    const first = cron({ schedule: '0 * * * * *', catchUp: true });
    await first.source.start();
    first.clock.advance(60_000);
    await settle();
    await first.source.stop();
    first.clock.advance(5 * 60_000 + 30_000);
    const again = cron({ schedule: '0 * * * * *', catchUp: true }, { clock: first.clock, state: first.state });
    await again.source.start();
    await settle();
    assert.deepEqual(again.sink.events.map((e) => e.id), [`tick@${iso(START + 6 * 60_000)}`]);
    again.clock.advance(30_000);
    await settle();
    assert.deepEqual(again.sink.events.map((e) => e.time), [START + 6 * 60_000, START + 7 * 60_000]);
    await again.source.stop();
  });

  test('a tick months away is waited for (timers cannot wait that long in one go) and fires on time', async () => {
    const waits: number[] = [];
    const clock = new (class extends ManualClock {
      override after(ms: number, fn: () => void): () => void {
        waits.push(ms);
        return super.after(ms, fn);
      }
    })(START);
    const { source, sink } = cron({ schedule: '0 0 1 7 *' }, { clock });
    await source.start();
    const due = Date.UTC(2026, 6, 1);
    clock.advance(due - START - 1);
    await settle();
    assert.equal(sink.events.length, 0, 'not before July 1st');
    clock.advance(1);
    await settle();
    assert.deepEqual(sink.events.map((e) => e.time), [due]);
    assert.ok(Math.max(...waits) < 2 ** 31, `every wait fits a Node timer (longest ${Math.max(...waits)} ms)`);
    await source.stop();
  });

  test('a refused tick makes the source failing and is tried again with the same id', async () => {
    const sink = new RecordingSink();
    const { source, status, advance } = cron({ schedule: '0 * * * * *' }, { sink });
    await source.start();
    sink.refuse(1);
    await advance(60);
    assert.equal(status.last?.state, 'failing');
    assert.match(status.last?.reason ?? '', /could not be delivered/);
    await advance(1);
    assert.equal(status.last?.state, 'active');
    assert.deepEqual(sink.events.map((e) => e.id), [`tick@${iso(START + 60_000)}`]);
    assert.equal(sink.calls, 2);
    await source.stop();
  });

  test('while the sink has no room the tick waits; it is delivered once there is room', async () => {
    const sink = new RecordingSink();
    const { source, advance } = cron({ schedule: '* * * * * *' }, { sink });
    await source.start();
    sink.full();
    await advance(3);
    assert.equal(sink.events.length, 0);
    sink.makeRoom();
    await settle();
    assert.deepEqual(sink.events.map((e) => e.time), [START + 1000], 'the waiting tick; the ones due meanwhile are skipped');
    await advance(1);
    assert.equal(sink.events.length, 2);
    await source.stop();
  });

  test('settings: invalid expressions, 7 fields, unknown zones, schedules that never fire and unknown fields are refused', () => {
    const problem = (settings: unknown) => {
      const result = cronSource.settings.safeParse(settings);
      return result.success ? undefined : `${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message}`;
    };
    assert.equal(problem({ schedule: '*/5 * * * *' }), undefined);
    assert.equal(problem({ schedule: '*/5 * * * * *', timezone: 'Europe/Zurich', data: { a: 1 }, catchUp: true }), undefined);
    assert.match(problem({ schedule: 'every minute' }) ?? '', /^schedule: invalid cron expression/);
    assert.match(problem({ schedule: '61 * * * *' }) ?? '', /^schedule: invalid cron expression.*minute/);
    assert.match(problem({ schedule: '0 0 0 1 1 * 2030' }) ?? '', /^schedule: invalid cron expression/);
    assert.match(problem({ schedule: '0 0 30 2 *' }) ?? '', /^schedule: .*never fires/);
    assert.match(problem({ schedule: '* * * * *', timezone: 'Mars/Olympus' }) ?? '', /^timezone: unknown time zone/);
    assert.match(problem({ schedule: '* * * * *', every: 5 }) ?? '', /every/);
    assert.match(problem({}) ?? '', /^schedule/);
  });
});
