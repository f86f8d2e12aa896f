/**
 * The enqueuer of the drain case, run in its own process by bench/async-drain.ts so it shares an
 * event loop with neither the platform nor the bench's poller.
 *
 *   node dist/bench/async-enqueue.js <origin> <function> <count> <connections>
 *
 * Sends exactly `count` async invocations (`POST /fn/<function>` with `Prefer: respond-async`
 * and the bench's event body) over `connections` keep-alive connections, each sending its next
 * request as soon as its previous answer is in. Prints one JSON line ({@link EnqueueReport}).
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { EVENT_BODY, PREFER_ASYNC, REQUEST_HEADERS } from './async-request.js';

/** What the enqueuer prints. Times are epoch milliseconds with a fraction. */
export interface EnqueueReport {
  /** The first request sent. */
  startedAt: number;
  /** The first and the last 202 received. */
  firstAcceptedAt: number;
  lastAcceptedAt: number;
  /** Answers 202. */
  accepted: number;
  /** Other answers and socket errors, by `HTTP <status>` or error code. */
  errors: Record<string, number>;
}

const TIMEOUT_MS = 60_000;

const now = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const [origin, fn, countText, connectionsText] = process.argv.slice(2);
  const count = Number(countText);
  const connections = Number(connectionsText);
  if (origin === undefined || fn === undefined || !Number.isInteger(count) || count < 1 || !Number.isInteger(connections) || connections < 1) {
    throw new Error('usage: async-enqueue.js <origin> <function> <count> <connections>');
  }
  if (new URL(origin).hostname !== '127.0.0.1') throw new Error(`refusing to send traffic to ${origin}`);
  const clients = Array.from({ length: connections }, () => new Client(origin, { keepAliveTimeout: 120_000, pipelining: 1 }));
  const report: EnqueueReport = { startedAt: 0, firstAcceptedAt: Number.NaN, lastAcceptedAt: Number.NaN, accepted: 0, errors: {} };
  const fail = (key: string): void => {
    report.errors[key] = (report.errors[key] ?? 0) + 1;
  };
  let sent = 0;
  const loop = async (client: Client): Promise<void> => {
    while (sent < count) {
      sent++;
      try {
        const res = await client.request({
          method: 'POST',
          path: `/fn/${fn}`,
          headers: { ...REQUEST_HEADERS, ...PREFER_ASYNC },
          body: EVENT_BODY,
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
        });
        await res.body.dump();
        if (res.statusCode !== 202) {
          fail(`HTTP ${res.statusCode}`);
          continue;
        }
        const at = now();
        if (report.accepted === 0) report.firstAcceptedAt = at;
        report.lastAcceptedAt = at;
        report.accepted++;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        fail(typeof code === 'string' ? code : 'error');
      }
    }
  };
  try {
    // Open every connection first, so TCP setup is not part of the enqueue window.
    await Promise.all(
      clients.map(async (client) => {
        const res = await client.request({ method: 'GET', path: '/healthz', headersTimeout: TIMEOUT_MS });
        await res.body.dump();
      }),
    );
    report.startedAt = now();
    await Promise.all(clients.map(loop));
    await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(report)}\n`, () => resolve()));
  } finally {
    await Promise.allSettled(clients.map((client) => client.destroy()));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`async enqueuer failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
