import type { CompiledServerOptions } from '../config/server-options.js';
import type { CleanupStack } from '../core/cleanup-stack.js';
import { AsyncAcceptor } from '../async/acceptor.js';
import { Callbacks } from '../async/callbacks.js';
import { DeadLetters } from '../async/dead-letters.js';
import { AsyncDispatcher } from '../async/dispatcher.js';
import { partitionHandlers } from '../async/function-partitions.js';
import { InvocationRunner } from '../async/invocation-runner.js';
import { SqliteQueue } from '../queue/sqlite-queue.js';
import type { Queue } from '../queue/types.js';
import type { Invoker } from '../gateway/invoker.js';
import type { Foundation } from './foundation.js';

/** Most dead letters kept per function (the oldest go first). */
export const MAX_DEAD_PER_FUNCTION = 10_000;
/** How often retention removes old invocation records. */
const SWEEP_INTERVAL_MS = 60_000;

/** Async invocations: the queue, intake, the dispatcher running the work, dead letters. */
export interface AsyncRole {
  queue: Queue;
  acceptor: AsyncAcceptor;
  deadLetters: DeadLetters;
  /** Starts running queued work through the gateway's invoker (accepting works before). */
  run(invoker: Pick<Invoker, 'peek' | 'lookup' | 'invoke'>): void;
  /** A function was deployed: its queued work runs at once if its new async concurrency allows more. */
  functionDeployed(name: string): void;
  /** Drops a removed function's queued work and records. */
  removeFunction(name: string): Promise<void>;
  /** Stops leasing work; in-flight work finishes as the instances drain. */
  stop(): void;
  /** Waits for in-flight work, then closes the queue. */
  close(): Promise<void>;
}

/**
 * Starts the async role: opens the embedded queue (`<dataDir>/queue.db`; leases a killed
 * platform held are released at once) and the acceptor the HTTP edge queues into; `run` then
 * starts the dispatcher that runs queued work through the gateway's invoker, with callbacks,
 * destinations and retention.
 */
export async function startAsyncRole(options: CompiledServerOptions, foundation: Foundation, started: CleanupStack): Promise<AsyncRole> {
  const { clock, logger } = options;
  const invocations = foundation.store.invocations;
  const queue = await SqliteQueue.open(options.dataDir, {
    clock,
    releaseLeases: true,
    checkpointOffLoop: { onError: (message) => logger.warn({ file: 'queue.db', reason: message }, 'a WAL checkpoint failed; the next one tries again') },
  });
  started.defer(() => queue.close());
  let dispatcher: AsyncDispatcher | undefined;
  const acceptor = new AsyncAcceptor({ queue, invocations, clock, onAccepted: (fn) => dispatcher?.accepted(fn) });
  const callbacks = new Callbacks({
    queue,
    clock,
    allowed: options.callbackHosts,
    random: Math.random,
    onGivenUp: (info) => logger.warn(info, 'a callback could not be delivered and was given up'),
  });
  const deadLetters = new DeadLetters({ queue, invocations });
  const retention = { retainMs: options.retainMs, maxEnded: options.maxEndedInvocations, maxDeadPerFunction: MAX_DEAD_PER_FUNCTION };
  const sweep = () => {
    invocations.sweep(clock.now(), retention).catch((err: unknown) => logger.warn({ err }, 'removing old invocation records failed'));
  };
  let stopSweeping: (() => void) | undefined;
  const stop = () => {
    stopSweeping?.();
    dispatcher?.stop();
  };
  started.defer(stop);
  return {
    queue,
    acceptor,
    deadLetters,
    run(invoker) {
      const runner = new InvocationRunner({ queue, invocations, invoker, clock, callbacks, acceptor, logger, random: Math.random });
      dispatcher = new AsyncDispatcher({ queue, clock, logger, workers: options.asyncWorkers, handlerFor: partitionHandlers(invoker, runner, callbacks) });
      stopSweeping = clock.every(SWEEP_INTERVAL_MS, sweep);
      sweep();
      dispatcher.start();
    },
    functionDeployed(name) {
      // Without this, work held at asyncConcurrency 0 would wait for the next poll once released.
      dispatcher?.accepted(name);
    },
    async removeFunction(name) {
      await queue.remove(name);
      await invocations.deleteFunction(name);
    },
    stop,
    async close() {
      stop();
      await dispatcher?.drained();
      await queue.close();
    },
  };
}
