/** Functions and answers the dashboard's browser test (dashboard.test.ts) uses. */
/** Logs a line naming the request, and answers JSON. */
export const LOGGING_FUNCTION = {
  file: 'index.js',
  content: `export default async (req) => {
  const url = new URL(req.url);
  console.log('dashboard-log ' + req.method + ' ' + url.pathname);
  return Response.json({ greeting: 'hi from the dashboard test', path: url.pathname });
};`,
};

/**
 * HISTORY_STUB: known figures in the shapes of `/api/v1/stats`, `/api/v1/functions/{name}/stats`
 * and `/api/v1/usage`, for the test that checks how the dashboard formats them.
 */
export function historyStub(now: number) {
  const minute = 60_000;
  const start = Math.floor(now / minute) * minute - 59 * minute;
  const figures = { invocations: 1500, errors: 7, gbSeconds: 12.5, cpuSeconds: 3.25, billedMs: 50_000, bytesIn: 1024 * 1024, bytesOut: 2 * 1024 * 1024, estimatedCost: 0.2088 };
  return {
    stats: { window: '5m', functions: [{ name: 'hello', invocations: 750, errors: 3, ratePerSecond: 2.5, p50Ms: 12.3, p99Ms: 250, coldStarts: 4 }] },
    series: {
      function: 'hello',
      bucketSeconds: 60,
      buckets: Array.from({ length: 60 }, (_, i) => ({
        start: new Date(start + i * minute).toISOString(),
        invocations: 20 + (i % 7) * 5,
        errors: i % 10 === 0 ? 2 : 0,
        p50Ms: i % 13 === 0 ? null : 10 + (i % 5),
        p99Ms: i % 13 === 0 ? null : 80 + (i % 9) * 10,
        coldStarts: i % 15 === 0 ? 1 : 0,
      })),
    },
    usage: (by: string | null) => ({
      since: new Date(now - 30 * 86_400_000).toISOString(),
      until: new Date(now).toISOString(),
      by,
      prices: { perMillionRequests: 0.2, perGbSecond: 0.0000166667 },
      rows:
        by === 'day'
          ? [
              { key: new Date(now - 86_400_000).toISOString().slice(0, 10), ...figures, invocations: 500 },
              { key: new Date(now).toISOString().slice(0, 10), ...figures, invocations: 1000 },
            ]
          : [{ key: 'hello', ...figures }],
      total: figures,
    }),
  };
}

/** Answers 500 every time. */
export const BROKEN_FUNCTION = { file: 'index.js', content: 'export default () => new Response("no", { status: 500 });' };
