import { Gauge, type Registry } from 'prom-client';
import type { QueueDepth } from '../queue/types.js';
import type { FunctionStatus } from '../scaling/instance-manager.js';

/** Where the gauges read from at scrape time; every method is called only on a scrape. */
export interface GaugeSources {
  /** The deployed functions (from memory: no I/O). */
  functionNames(): readonly string[];
  /** What the instance manager knows of a function now. */
  status(name: string): Pick<FunctionStatus, 'inflight' | 'queued' | 'desired'>;
  /** The state of each of the function's instances (`starting`, `ready`, `draining`, `stopped`). */
  instanceStates(name: string): Iterable<string>;
  /** The function's queued async work; absent: no async backlog gauge. */
  backlog?(name: string): Promise<QueueDepth>;
  /** The function's dead letters; absent: no dead-letter gauge. */
  deadLetters?(name: string): Promise<number>;
}

/** Instance states always shown (0 when none), so a query never meets a missing series. */
const INSTANCE_STATES = ['starting', 'ready', 'draining'] as const;
const BACKLOG_STATES = ['due', 'delayed', 'leased'] as const;

/**
 * Registers the gauges of the platform's state, per deployed function: instances by state, the
 * autoscaler's desired count, invocations in flight, the admission queue, and (when the sources
 * have them) the async backlog and dead letters. Each is set by a prom-client `collect()`
 * callback, so nothing runs per request; a removed function is no longer listed and its series
 * go with it.
 */
export function registerPlatformGauges(registry: Registry, sources: GaugeSources): void {
  const registers = [registry];
  new Gauge({
    name: 'nimbus_instances',
    help: 'Instances of the function by state (starting, ready, draining), any version.',
    labelNames: ['function', 'state'],
    registers,
    collect() {
      this.reset();
      for (const name of sources.functionNames()) {
        const counts = new Map<string, number>(INSTANCE_STATES.map((state) => [state, 0]));
        for (const state of sources.instanceStates(name)) if (state !== 'stopped') counts.set(state, (counts.get(state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ function: name, state }, n);
      }
    },
  });
  perFunctionGauge(registry, 'nimbus_instances_desired', 'Instances the autoscaler wants for the current version of the function.', sources, (status) => status.desired);
  perFunctionGauge(registry, 'nimbus_inflight_invocations', 'Invocations of the function running on its instances now.', sources, (status) => status.inflight);
  perFunctionGauge(registry, 'nimbus_admission_queue_depth', 'Invocations of the function waiting for capacity (an instance slot) now.', sources, (status) => status.queued);
  const { backlog, deadLetters } = sources;
  if (backlog) {
    new Gauge({
      name: 'nimbus_async_backlog',
      help: 'Queued async invocations of the function by state: due (runnable now), delayed (waiting for a retry or a start time), leased (running).',
      labelNames: ['function', 'state'],
      registers,
      async collect() {
        const names = sources.functionNames();
        const depths = await Promise.all(names.map((name) => backlog(name)));
        this.reset();
        names.forEach((name, i) => {
          for (const state of BACKLOG_STATES) this.set({ function: name, state }, depths[i]?.[state] ?? 0);
        });
      },
    });
  }
  if (deadLetters) {
    new Gauge({
      name: 'nimbus_dead_letters',
      help: 'Async invocations of the function that failed for good and are kept as dead letters.',
      labelNames: ['function'],
      registers,
      async collect() {
        const names = sources.functionNames();
        const counts = await Promise.all(names.map((name) => deadLetters(name)));
        this.reset();
        names.forEach((name, i) => this.set({ function: name }, counts[i] ?? 0));
      },
    });
  }
}

/** A gauge with a `function` label set from the instance manager's status at scrape time. */
function perFunctionGauge(registry: Registry, name: string, help: string, sources: GaugeSources, value: (status: Pick<FunctionStatus, 'inflight' | 'queued' | 'desired'>) => number): void {
  new Gauge({
    name,
    help,
    labelNames: ['function'],
    registers: [registry],
    collect() {
      this.reset();
      for (const fn of sources.functionNames()) this.set({ function: fn }, value(sources.status(fn)));
    },
  });
}
