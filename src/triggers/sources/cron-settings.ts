import { Cron } from 'croner';
import { z } from 'zod';

/** Settings of a `cron` trigger (the API's `settings`; CLI flags in parentheses). */
export interface CronSettings {
  /** 5 fields (minute precision) or 6 (seconds first), in croner's syntax (`--cron`). */
  schedule: string;
  /** IANA time zone the schedule is read in (`--timezone`); UTC when absent. */
  timezone?: string | undefined;
  /** The event's data, sent as JSON (`--data <json>`); absent: the event has no data (empty body). */
  data?: unknown;
  /** After a restart, fire the most recent tick missed while the platform was down (`--catch-up`). */
  catchUp?: boolean | undefined;
}

/** Longest schedule expression accepted. */
const MAX_SCHEDULE_LENGTH = 200;

/**
 * Compiles a schedule with croner without starting croner's own scheduler (it uses real timers:
 * the cron source schedules through the Clock itself).
 * @throws Error with croner's message when the expression or zone is invalid.
 */
export function compileSchedule(schedule: string, timezone: string | undefined): Cron {
  return new Cron(schedule, { paused: true, mode: '5-or-6-parts', ...(timezone === undefined ? {} : { timezone }) });
}

/** Why `zone` is not an IANA time zone this runtime knows, or undefined when it is one. */
function zoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `unknown time zone ${JSON.stringify(zone.slice(0, 80))}: use an IANA zone name such as Europe/Zurich or America/New_York`;
  }
}

/** Validates `cron` settings: the expression parses (5 or 6 fields), the zone exists, the schedule fires at least once more. */
export const cronSettingsSchema: z.ZodType<CronSettings> = z
  .strictObject({
    schedule: z.string().min(1).max(MAX_SCHEDULE_LENGTH),
    timezone: z.string().min(1).max(100).optional(),
    data: z.json().optional(),
    catchUp: z.boolean().optional(),
  })
  .superRefine((settings, context) => {
    if (settings.timezone !== undefined) {
      const problem = zoneProblem(settings.timezone);
      if (problem) return context.addIssue({ code: 'custom', path: ['timezone'], message: problem });
    }
    let next: Date | null;
    try {
      next = compileSchedule(settings.schedule, settings.timezone).nextRun();
    } catch (err) {
      const why = (err as Error).message.replace(/^Cron\w*: /, '');
      return context.addIssue({ code: 'custom', path: ['schedule'], message: `invalid cron expression: ${why} (5 fields "min hour day month weekday", or 6 with seconds first, e.g. "*/10 * * * * *")` });
    }
    if (next === null) context.addIssue({ code: 'custom', path: ['schedule'], message: `the schedule ${JSON.stringify(settings.schedule)} never fires` });
    return undefined;
  });
