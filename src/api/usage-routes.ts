import { USAGE_GROUPINGS, type UsageFigures as WireFigures, type UsageReport } from './wire.js';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { assertFunctionName } from '../core/spec.js';
import { sendJson } from '../http/respond.js';
import type { HistoryRepository, UsageFigures } from '../store/history-types.js';
import type { ApiRoute } from './route-table.js';
import { timeParam } from './time-query.js';

/** What the usage route needs. */
export interface UsageRouteDeps {
  /** Undefined when records are off: the report is then empty. */
  history: HistoryRepository | undefined;
  prices: { perMillionRequests: number; perGbSecond: number } | null;
  clock: Clock;
}

/** The span of a report without `since`. */
const DEFAULT_SPAN_MS = 30 * 86_400_000;

/**
 * `GET /api/v1/usage?since=&until=&by=function|hour|day&function=` (scope read): the metering
 * ledger's hourly roll-ups whose hour starts in [since, until), grouped, with an estimated cost
 * when the platform has prices. Default: the last 30 days, by function.
 */
export function usageRoutes(deps: UsageRouteDeps): ApiRoute[] {
  return [
    {
      pattern: /^\/api\/v1\/usage$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (_req, res, { url }) => {
            const params = url.searchParams;
            const now = deps.clock.now();
            const until = timeParam(params, 'until', now) ?? now;
            const since = timeParam(params, 'since', now) ?? until - DEFAULT_SPAN_MS;
            if (since > until) throw invalid('since', 'must not be later than until');
            const by = params.get('by') || 'function';
            if (!(USAGE_GROUPINGS as readonly string[]).includes(by)) throw invalid('by', `must be one of ${USAGE_GROUPINGS.join(', ')}`);
            const fn = params.get('function');
            if (fn) assertFunctionName(fn);
            const usage = deps.history
              ? await deps.history.usage({ since, until, by: by as UsageReport['by'], ...(fn ? { function: fn } : {}) })
              : { rows: [], total: { invocations: 0, errors: 0, gbSeconds: 0, cpuSeconds: 0, billedMs: 0, bytesIn: 0, bytesOut: 0 } };
            const body: UsageReport = {
              since: new Date(since).toISOString(),
              until: new Date(until).toISOString(),
              by: by as UsageReport['by'],
              prices: deps.prices ? { ...deps.prices } : null,
              rows: usage.rows.map((row) => ({ key: row.key, ...priced(row, deps.prices) })),
              total: priced(usage.total, deps.prices),
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

/** The figures as the API shows them (sums of floats rounded to a sensible precision), priced. */
function priced(f: UsageFigures, prices: UsageRouteDeps['prices']): WireFigures {
  const gbSeconds = round(f.gbSeconds, 6);
  return {
    invocations: f.invocations,
    errors: f.errors,
    gbSeconds,
    cpuSeconds: round(f.cpuSeconds, 6),
    billedMs: f.billedMs,
    bytesIn: f.bytesIn,
    bytesOut: f.bytesOut,
    estimatedCost: prices ? round((f.invocations / 1e6) * prices.perMillionRequests + f.gbSeconds * prices.perGbSecond, 6) : null,
  };
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
