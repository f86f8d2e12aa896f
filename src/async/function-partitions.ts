import { asyncPolicyOf } from '../core/async-policy.js';
import type { Invoker } from '../gateway/invoker.js';
import type { Lease } from '../queue/types.js';
import { CALLBACK_CONCURRENCY, CALLBACK_PARTITION, CALLBACK_TIMEOUT_MS, type Callbacks } from './callbacks.js';
import type { PartitionHandler } from './dispatcher.js';
import type { InvocationRunner } from './invocation-runner.js';

/**
 * The dispatcher's handlers: the callback partition's deliveries, and every other partition's
 * invocations of the function of that name, at its async concurrency and for its timeout.
 */
export function partitionHandlers(invoker: Pick<Invoker, 'peek'>, runner: InvocationRunner, callbacks: Callbacks): (partition: string) => PartitionHandler {
  const callbackHandler: PartitionHandler = {
    run: (lease: Lease) => callbacks.deliver(lease),
    concurrency: () => CALLBACK_CONCURRENCY,
    leaseMs: () => CALLBACK_TIMEOUT_MS * 2,
  };
  const functionHandler: PartitionHandler = {
    run: (lease: Lease) => runner.run(lease),
    // A function not in memory yet is looked up when its first item runs; until then one at a time.
    concurrency: (name) => {
      const record = invoker.peek(name);
      return record ? asyncPolicyOf(record.spec).asyncConcurrency : 1;
    },
    leaseMs: (name) => invoker.peek(name)?.spec.timeoutMs ?? 0,
  };
  return (partition) => (partition === CALLBACK_PARTITION ? callbackHandler : functionHandler);
}
