/**
 * Nimbus's view of its pods, kept by one watch (client-node's informer: a list, then a watch from
 * its resource version, resumed from the last version seen when the server ends it, and a fresh
 * list after 410 Gone). A watch that fails (connection cut, API server down) is started again with
 * back-off. Listeners hear about every pod that changes or goes.
 */
import { type Informer, type KubeConfig, makeInformer, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';
import type { PodClient } from './cluster.js';

type PodListener = (pod: V1Pod, deleted: boolean) => void;

const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5000;

export class PodWatch {
  private readonly informer: Informer<V1Pod> & ObjectCache<V1Pod>;
  private readonly listeners = new Map<string, Set<PodListener>>();
  private readonly anyListeners = new Set<PodListener>();
  private stopped = false;
  private failures = 0;
  private cancelRestart: (() => void) | undefined;
  /** Restarts after a failed watch (for tests and logs). */
  restarts = 0;

  constructor(kubeConfig: KubeConfig, pods: PodClient, labelSelector: string, private readonly clock: Clock, private readonly onError: (err: unknown) => void = () => undefined) {
    this.informer = makeInformer(kubeConfig, `/api/v1/namespaces/${pods.namespace}/pods`, () => pods.listWithVersion(labelSelector), labelSelector);
    this.informer.on('add', (pod) => this.emit(pod, false));
    this.informer.on('update', (pod) => this.emit(pod, false));
    this.informer.on('delete', (pod) => this.emit(pod, true));
    this.informer.on('connect', () => (this.failures = 0));
    this.informer.on('error', (err) => this.restart(err));
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  /** The pod as last seen, if it exists. */
  get(name: string): V1Pod | undefined {
    return this.informer.list().find((pod) => pod.metadata?.name === name);
  }

  /** The pods seen now. */
  list(): readonly V1Pod[] {
    return this.informer.list();
  }

  /** Calls `listener` on each change of pod `name` until the returned function is called. */
  onPod(name: string, listener: PodListener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  /** Calls `listener` on every change. */
  onAny(listener: PodListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRestart?.();
    await this.informer.stop();
  }

  private emit(pod: V1Pod, deleted: boolean): void {
    for (const listener of [...this.anyListeners]) listener(pod, deleted);
    const name = pod.metadata?.name;
    if (name) for (const listener of [...(this.listeners.get(name) ?? [])]) listener(pod, deleted);
  }

  private restart(err: unknown): void {
    if (this.stopped) return;
    this.onError(err);
    const backoff = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** this.failures++);
    this.cancelRestart = this.clock.after(backoff / 2 + Math.random() * (backoff / 2), () => {
      this.restarts++;
      if (!this.stopped) this.informer.start().catch((e: unknown) => this.restart(e));
    });
  }
}
