import type { CompiledServerOptions } from '../config/server-options.js';
import type { CleanupStack } from '../core/cleanup-stack.js';
import type { HistoryRepository, HistoryRetention } from '../store/history-types.js';
import { SqliteHistory } from '../store/sqlite-history.js';
import { HistoryThread } from '../telemetry/history-thread.js';
import { HistoryWriter } from '../telemetry/history-writer.js';
import { MinuteStats } from '../telemetry/minute-stats.js';
import type { Foundation } from './foundation.js';
import type { GatewayRole } from './gateway.js';

/** How often expired and excess history records (and expired roll-ups) are removed. */
const SWEEP_INTERVAL_MS = 60_000;
/** The ledger's hourly roll-ups are kept this long, whatever `retainMs` says of raw records. */
export const LEDGER_RETAIN_MS = 400 * 86_400_000;

/** The invocation history, the usage ledger and the per-minute stats. */
export interface HistoryRole {
  /** Undefined when records are off (`records: false`). */
  history: HistoryRepository | undefined;
  /** Per-minute figures for the stats API (empty when records are off). */
  stats: MinuteStats;
  /** Writes what is buffered (tests read the history right after invoking). */
  flush(): Promise<void>;
  /** Stops sweeping, writes what is buffered and closes the history (after the last invocation ended). */
  close(): Promise<void>;
}

/**
 * Starts the history role: opens `history.db` for reading, starts the thread that writes it,
 * subscribes the batched writer and the per-minute stats to the gateway's invocation-ended events,
 * sweeps by retention every minute, and removes a removed function's records and stats (its ledger
 * rows stay: usage outlives the function).
 * With `records: false` nothing is subscribed, and nothing is written.
 */
export async function startHistoryRole(
  options: CompiledServerOptions,
  foundation: Pick<Foundation, 'feed'>,
  gateway: Pick<GatewayRole, 'invocations'>,
  started: CleanupStack,
): Promise<HistoryRole> {
  const stats = new MinuteStats();
  if (!options.records) return { history: undefined, stats, flush: async () => {}, close: async () => {} };
  const { clock, logger } = options;
  // This connection only reads (the API's listings and usage); every write is the thread's.
  const history = await SqliteHistory.open(options.dataDir);
  // The writer hands batches to the thread (only once started, below); the thread gives their memory back.
  const writer = new HistoryWriter(
    (batch) => thread.append(batch),
    clock,
    (err, lost) => logger.error({ err, lost }, 'invocation records could not be written; this batch is lost'),
  );
  const thread = await HistoryThread.start(
    options.dataDir,
    (message) => logger.error({ file: 'history.db', reason: message }, 'the history thread failed'),
    ({ numbers, text }) => writer.recycle(numbers, text),
  );
  writer.start();
  const unsubscribe = [gateway.invocations.on(writer.record), gateway.invocations.on(stats.record)];
  // A removed function's records go with it, as its async records do; its usage stays in the ledger.
  foundation.feed.subscribe('function.removed', async ({ name }) => {
    stats.forget(name);
    await writer.flush();
    await thread.deleteFunction(name);
  });
  const retention: HistoryRetention = { retainMs: options.retainMs, maxRecords: options.maxRecords, ledgerRetainMs: LEDGER_RETAIN_MS };
  const sweep = () => {
    thread.sweep(clock.now(), retention).catch((err: unknown) => logger.warn({ err }, 'removing old invocation history failed'));
  };
  const stopSweeping = clock.every(SWEEP_INTERVAL_MS, sweep);
  sweep();
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      stopSweeping();
      unsubscribe.forEach((off) => off());
      await writer.close();
      await thread.close();
      await history.close();
    })());
  started.defer(close);
  return { history, stats, flush: () => writer.flush(), close };
}
