/**
 * The observability endpoints' shapes as the dashboard names them: the platform's wire types
 * (src/api/wire.ts) for stats, usage and invocation records with their metering.
 */
import type { FunctionStatsReport, FunctionStatsSummary, InvocationList, InvocationView, StatsReport } from '../api/wire.js';

export type { StatsBucket, UsageFigures, UsageReport } from '../api/wire.js';

/** `GET /api/v1/stats?window=5m`: one row per function. */
export type StatsWindow = StatsReport;
export type FunctionStats = FunctionStatsSummary;
/** `GET /api/v1/functions/{name}/stats?minutes=60`: one bucket per minute, oldest first. */
export type StatsSeries = FunctionStatsReport;
/** An invocation record, with its metering (null before a first attempt, or with records off). */
export type InvocationRecord = InvocationView;
export type InvocationPage = InvocationList;

/** The phases of an invocation (ms), by name, as Server-Timing names them; null without metering. */
export function phasesOf(record: InvocationRecord): Record<string, number> | null {
  const m = record.metering;
  return m ? { queue: m.queueMs, start: m.startMs, handler: m.handlerMs } : null;
}
