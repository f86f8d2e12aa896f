/**
 * The burst generator, run in its own process by bench/burst.ts so that it shares an event loop
 * with neither the platform nor the poller that counts instances.
 *
 *   node dist/bench/burst-client.js <origin> <path> <count>
 *
 * Opens `count` keep-alive connections to `origin` (one undici Client each, opened with a
 * `GET /healthz` so TCP setup is not timed), then sends one `GET <path>` on every connection in
 * the same tick and waits for all the answers. Prints one JSON line on stdout: the burst's start
 * and end (epoch ms), its duration, and each request's outcome.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';

/** One request of the burst. `status` 0 means a socket error (named in `error`). */
export interface BurstOutcome {
  /** Milliseconds from sending the request to the end of its response body. */
  ms: number;
  status: number;
  /** The `x-nimbus-error` header of a platform error. */
  code?: string;
  /** A socket-level error (e.g. `UND_ERR_SOCKET`, `ECONNRESET`). */
  error?: string;
}

/** What the generator prints. */
export interface BurstReport {
  startedAt: number;
  endedAt: number;
  totalMs: number;
  outcomes: BurstOutcome[];
}

const TIMEOUT_MS = 60_000;

function errorName(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' ? e.code : String(e.message ?? err);
}

async function one(client: Client, path: string): Promise<BurstOutcome> {
  const sent = performance.now();
  try {
    const res = await client.request({ method: 'GET', path, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
    await res.body.text();
    const code = res.headers['x-nimbus-error'];
    const outcome: BurstOutcome = { ms: performance.now() - sent, status: res.statusCode };
    if (code !== undefined) outcome.code = Array.isArray(code) ? code.join(',') : code;
    return outcome;
  } catch (err) {
    return { ms: performance.now() - sent, status: 0, error: errorName(err) };
  }
}

async function main(): Promise<void> {
  const [origin, path, countText] = process.argv.slice(2);
  const count = Number(countText);
  if (origin === undefined || path === undefined || !Number.isInteger(count) || count < 1) {
    throw new Error('usage: burst-client.js <origin> <path> <count>');
  }
  if (new URL(origin).hostname !== '127.0.0.1') throw new Error(`refusing to send traffic to ${origin}`);
  const clients = Array.from({ length: count }, () => new Client(origin, { keepAliveTimeout: 120_000, pipelining: 1 }));
  try {
    // Open every connection first; a connection that cannot open is an error of the burst too.
    await Promise.all(
      clients.map(async (client) => {
        const res = await client.request({ method: 'GET', path: '/healthz', headersTimeout: TIMEOUT_MS });
        await res.body.text();
      }),
    );
    const startedAt = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    const outcomes = await Promise.all(clients.map((client) => one(client, path)));
    const totalMs = performance.now() - t0;
    const report: BurstReport = { startedAt, endedAt: startedAt + totalMs, totalMs, outcomes };
    await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(report)}\n`, () => resolve()));
  } finally {
    await Promise.allSettled(clients.map((client) => client.destroy()));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`burst generator failed: ${errorName(err)}`);
    process.exit(1);
  },
);
