import type { Cron } from 'croner';
import type { SourceContext, SourceKind, TriggerEvent, TriggerSource } from '../types.js';
import { compileSchedule, type CronSettings, cronSettingsSchema } from './cron-settings.js';

export type { CronSettings } from './cron-settings.js';

/** `ce-type` of a tick. */
export const CRON_EVENT_TYPE = 'dev.nimbus.cron.tick';
/** The source-state key holding the scheduled time (epoch ms) of the last tick delivered. */
export const LAST_TICK_KEY = 'lastTick';
/** Back-off between attempts to deliver a tick the sink refused: doubles from the first to the last. */
const RETRY_MS = { first: 1_000, last: 30_000 };
/**
 * Longest single wait for a tick: Node's timers fire at once beyond 2^31-1 ms (24.8 days), so a
 * far tick (a yearly schedule) is waited for in steps of a day.
 */
const MAX_WAIT_MS = 86_400_000;

/**
 * The `cron` kind: ticks of a schedule, computed by croner and timed through the Clock (never
 * croner's own timers), so tests step a ManualClock through them.
 *
 * A tick's id is the trigger's name and its scheduled time (ISO 8601), and the scheduled time of
 * the last tick delivered is kept in the source state: a restart never fires a tick twice. Ticks
 * missed while the source was not running are skipped, unless `catchUp`, which fires the most
 * recent one of them (only one). A tick the sink refuses is tried again, with back-off, until
 * it is taken; the ticks that fell due meanwhile are skipped.
 */
export const cronSource: SourceKind<CronSettings> = {
  type: 'cron',
  settings: cronSettingsSchema,
  secretNames: () => [],
  create: (context) => new CronTicks(context),
};

/** The id of the tick of `trigger` scheduled at `at`. */
export function tickId(trigger: string, at: number): string {
  return `${trigger}@${new Date(at).toISOString()}`;
}

class CronTicks implements TriggerSource {
  private readonly cron: Cron;
  private cancel: (() => void) | undefined;
  private stopped = false;
  private firing: Promise<void> = Promise.resolve();

  constructor(private readonly context: SourceContext<CronSettings>) {
    this.cron = compileSchedule(context.settings.schedule, context.settings.timezone);
  }

  async start(): Promise<void> {
    const { clock, state, settings, status } = this.context;
    const now = clock.now();
    const last = await state.get<number>(LAST_TICK_KEY);
    status.active();
    if (settings.catchUp && last !== undefined) {
      const missed = this.cron.previousRuns(1, new Date(now))[0]?.getTime();
      if (missed !== undefined && missed > last) {
        this.fire(missed, RETRY_MS.first);
        return;
      }
    }
    this.scheduleAfter(Math.max(now, last ?? now));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.firing;
  }

  /** Sets the timer for the first tick strictly after `from`. */
  private scheduleAfter(from: number): void {
    if (this.stopped) return;
    const next = this.cron.nextRun(new Date(from))?.getTime();
    if (next !== undefined) this.arm(next);
  }

  /** Sets the timer for the tick at `next`, waking at least once a day until it is due. */
  private arm(next: number): void {
    const wait = next - this.context.clock.now();
    this.cancel = wait > MAX_WAIT_MS ? this.context.clock.after(MAX_WAIT_MS, () => this.arm(next)) : this.context.clock.after(Math.max(0, wait), () => this.fire(next, RETRY_MS.first));
  }

  private fire(at: number, retryMs: number): void {
    this.cancel = undefined;
    this.firing = this.deliver(at).then(
      () => this.scheduleAfter(Math.max(at, this.context.clock.now())),
      (err: unknown) => this.retry(at, retryMs, err),
    );
  }

  private async deliver(at: number): Promise<void> {
    const { sink, state, status, trigger, settings } = this.context;
    await sink.whenRoom();
    if (this.stopped) return;
    await sink.deliver([tickEvent(trigger, settings, at)]);
    await state.set(LAST_TICK_KEY, at);
    status.active();
  }

  private retry(at: number, retryMs: number, err: unknown): void {
    if (this.stopped) return;
    const reason = err instanceof Error ? err.message : String(err);
    this.context.status.failing(`the tick of ${new Date(at).toISOString()} could not be delivered: ${reason}`);
    this.cancel = this.context.clock.after(retryMs, () => this.fire(at, Math.min(retryMs * 2, RETRY_MS.last)));
  }
}

/** The event of one tick: no data unless the settings give some (then JSON). */
function tickEvent(trigger: string, settings: CronSettings, at: number): TriggerEvent {
  const event: TriggerEvent = {
    id: tickId(trigger, at),
    type: CRON_EVENT_TYPE,
    source: `urn:nimbus:trigger:${trigger}`,
    subject: settings.schedule,
    time: at,
    data: Buffer.alloc(0),
  };
  if (settings.data !== undefined) {
    event.data = Buffer.from(JSON.stringify(settings.data));
    event.contentType = 'application/json';
  }
  return event;
}
