/**
 * Shapes of the observability endpoints (stats, usage, the metering fields of invocation records)
 * as the dashboard reads them. They are served by the invocation-history part of the platform;
 * on a platform without it these routes answer 404 and the pages say "not available". Every field
 * beyond the name may be missing: the dashboard shows a dash rather than failing.
 */
import type { InvocationView } from '../api/wire.js';

/** `GET /api/v1/stats?window=5m`: one row per function. */
export interface StatsWindow {
  window: string;
  functions: FunctionStats[];
}

export interface FunctionStats {
  name: string;
  invocations?: number;
  errors?: number;
  ratePerSecond?: number;
  p50Ms?: number | null;
  p99Ms?: number | null;
  coldStarts?: number;
}

/** `GET /api/v1/functions/{name}/stats?minutes=60`: one bucket per minute, oldest first. */
export interface StatsSeries {
  function: string;
  bucketSeconds: number;
  buckets: StatsBucket[];
}

export interface StatsBucket {
  start: string;
  invocations: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  coldStarts: number;
}

/** The figures of a usage row and of the total. */
export interface UsageFigures {
  invocations: number;
  errors: number;
  gbSeconds: number;
  cpuSeconds: number;
  billedMs: number;
  bytesIn: number;
  bytesOut: number;
  estimatedCost: number | null;
}

/** `GET /api/v1/usage?since=&until=&by=function|hour|day`. */
export interface UsageReport {
  since: string;
  until: string;
  by: 'function' | 'hour' | 'day';
  prices: { perMillionRequests: number; perGbSecond: number } | null;
  rows: (UsageFigures & { key: string })[];
  total: UsageFigures;
}

/**
 * An invocation record: the async record of today's API, plus the metering fields records of
 * every invocation carry once invocation history is on (all optional here).
 */
export interface InvocationRecord extends Partial<Omit<InvocationView, 'id' | 'function' | 'status'>> {
  id: string;
  function: string;
  status: string;
  source?: string;
  durationMs?: number | null;
  billedMs?: number | null;
  coldStart?: boolean;
  /** Phase timings in ms (queue, start, handler, …), by name. */
  phases?: Record<string, number | null> | null;
  memoryMb?: number;
  bytesIn?: number;
  bytesOut?: number;
  errorCode?: string | null;
  statusCode?: number | null;
}

export interface InvocationPage {
  invocations: InvocationRecord[];
  nextCursor: string | null;
}
