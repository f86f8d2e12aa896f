import type { FunctionStatsReport, StatsReport } from './wire.js';
import type { Clock } from '../core/clock.js';
import { parseDuration } from '../core/duration.js';
import { NimbusError } from '../core/errors.js';
import { assertFunctionName } from '../core/spec.js';
import { sendJson } from '../http/respond.js';
import type { MinuteStats } from '../telemetry/minute-stats.js';
import type { ApiRoute } from './route-table.js';

/** What the stats routes need. */
export interface StatsRouteDeps {
  stats: MinuteStats;
  /** The deployed functions (listed even without invocations in the window). */
  functionNames(): string[];
  clock: Clock;
}

const WINDOW = { min: 60_000, max: 86_400_000 };
const MINUTES = { min: 1, max: 1440 };

/**
 * `GET /api/v1/stats?window=5m` (every function over a window, 1m to 24h) and
 * `GET /api/v1/functions/{name}/stats?minutes=60` (one function minute by minute, 1 to 1440),
 * scope read: from the per-minute aggregates in memory (src/telemetry/minute-stats.ts), which a
 * restarted platform starts without. A window counts whole minutes: the current one and those
 * before it that the window reaches into.
 */
export function statsRoutes(deps: StatsRouteDeps): ApiRoute[] {
  const { stats, clock } = deps;
  return [
    {
      pattern: /^\/api\/v1\/stats$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (_req, res, { url }) => {
            const window = url.searchParams.get('window') || '5m';
            const ms = parseDuration(window);
            if (ms === undefined || /^\d+(\.\d+)?$/.test(window) || ms < WINDOW.min || ms > WINDOW.max) throw invalid('window', 'must be a duration from 1m to 24h, such as 5m or 1h');
            const now = clock.now();
            const minutes = Math.ceil(ms / 60_000);
            const names = [...new Set([...deps.functionNames(), ...stats.names()])].sort();
            const body: StatsReport = {
              window,
              functions: names.map((name) => {
                const span = stats.span(name, minutes, now);
                return { name, invocations: span.invocations, errors: span.errors, ratePerSecond: Math.round((span.invocations / (ms / 1000)) * 1000) / 1000, p50Ms: span.p50Ms, p99Ms: span.p99Ms, coldStarts: span.coldStarts };
              }),
            };
            sendJson(res, 200, body);
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/stats$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (_req, res, { name, url }) => {
            assertFunctionName(name);
            const text = url.searchParams.get('minutes') || '60';
            const minutes = Number(text);
            if (!/^\d+$/.test(text) || minutes < MINUTES.min || minutes > MINUTES.max) throw invalid('minutes', `must be a whole number from ${MINUTES.min} to ${MINUTES.max}`);
            const body: FunctionStatsReport = {
              function: name,
              bucketSeconds: 60,
              buckets: stats.perMinute(name, minutes, clock.now()).map((b) => ({ start: new Date(b.start).toISOString(), invocations: b.invocations, errors: b.errors, p50Ms: b.p50Ms, p99Ms: b.p99Ms, coldStarts: b.coldStarts })),
            };
            sendJson(res, 200, body);
          },
        },
      },
    },
  ];
}

function invalid(field: string, why: string): NimbusError {
  return new NimbusError('INVALID_REQUEST', `${field}: ${why}`, { details: { field } });
}
