import type { FunctionRecord } from '../store/types.js';
import type { ChangeFeed } from './change-feed.js';

/**
 * The parts of this process that keep something about functions, secrets or keys, each as the
 * little the change feed needs of it. Structural, so the control plane depends on none of them.
 */
export interface ChangeFollowers {
  /** The gateway's function cache. */
  functions: { set(record: FunctionRecord): void; delete(name: string): void };
  /** What the gateway keeps about invoke keys. */
  invokeKeys: { forget(functionName: string): void };
  /** The log buffer. */
  logs: { drop(functionName: string): void };
  /** The function instances (the backend). */
  instances: {
    /** A new version: drain older instances, keep the minimum running. */
    configure(record: FunctionRecord): void;
    /** Drains and stops the function's instances. */
    remove(name: string): Promise<void>;
    /** Replaces running instances (they hold a secret's old value); optional. */
    recycle?(name: string): void;
  };
  /** Queued async work and invocation records. */
  asyncWork?: {
    /** A new version, whose async settings may let more of its queued work run (after the function cache has it). */
    functionDeployed(name: string): void;
    removeFunction(name: string): Promise<void>;
  };
}

/**
 * Subscribes this process's parts to the change feed; the answer unsubscribes them all. Called by
 * the composition root. Within one event the parts are told in the order listed here: caches
 * first, the instances last, so a removal's drain never holds back forgetting the function.
 */
export function followChanges(feed: Pick<ChangeFeed, 'subscribe'>, parts: ChangeFollowers): () => void {
  const { functions, invokeKeys, logs, instances, asyncWork } = parts;
  const unsubscribe = [
    feed.subscribe('function.deployed', ({ record }) => functions.set(record)),
    feed.subscribe('function.deployed', ({ record }) => instances.configure(record)),
    // After the cache: a raised (or released, from 0) async concurrency is read from it.
    feed.subscribe('function.deployed', ({ record }) => asyncWork?.functionDeployed(record.spec.name)),
    feed.subscribe('function.removed', ({ name }) => functions.delete(name)),
    feed.subscribe('function.removed', ({ name }) => invokeKeys.forget(name)),
    feed.subscribe('function.removed', ({ name }) => logs.drop(name)),
    feed.subscribe('function.removed', ({ name }) => asyncWork?.removeFunction(name)),
    feed.subscribe('function.removed', ({ name }) => instances.remove(name)),
    // Instances read secrets when they start: the running ones are replaced so the next request sees the new value.
    feed.subscribe('secret.changed', ({ functions: users }) => {
      for (const name of users) instances.recycle?.(name);
    }),
    feed.subscribe('keys.changed', ({ function: name }) => invokeKeys.forget(name)),
  ];
  return () => {
    for (const stop of unsubscribe) stop();
  };
}
