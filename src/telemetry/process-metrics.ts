import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/**
 * The process's own metrics: prom-client's default set (CPU, memory, heap, event-loop lag, GC,
 * handles, file descriptors, Node version) named `nimbus_…`. One registry per process, shared by
 * every platform it runs (tests start several): the figures describe the process, and collecting
 * them starts an event-loop monitor and a GC observer that are never stopped.
 */
export function processMetrics(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared, prefix: 'nimbus_' });
  }
  return shared;
}
