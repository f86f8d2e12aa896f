/**
 * Nimbus's view of its pods, kept by a list and then a watch from the list's resource version.
 * A watch the API server ends is resumed from the last version seen; a `410 Gone` (that version
 * was compacted) leads to a fresh list, whose differences are told as changes and deletions; a
 * watch that fails (connection cut, API server down) is started again with back-off. Each watch
 * has a generation: what a superseded watch still reports (an abort arriving late) is ignored,
 * so it can never end or replace the current one. Listeners hear about every pod that changes
 * or goes.
 */
import { type KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';
import type { PodClient } from './cluster.js';

type PodListener = (pod: V1Pod, deleted: boolean) => void;

const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5000;

export class PodWatch {
  private readonly watcher: Watch;
  private readonly path: string;
  private readonly pods = new Map<string, V1Pod>();
  private readonly listeners = new Map<string, Set<PodListener>>();
  private readonly anyListeners = new Set<PodListener>();
  /** Where the next watch starts; empty: list first. */
  private resourceVersion = '';
  /** Identifies the current watch; a callback of any other is stale. */
  private generation = 0;
  private controller: AbortController | undefined;
  private cancelRestart: (() => void) | undefined;
  private stopped = false;
  private failures = 0;
  /** Watches started again after one ended or failed (for tests and logs). */
  restarts = 0;

  constructor(
    kubeConfig: KubeConfig,
    private readonly client: PodClient,
    private readonly labelSelector: string,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.watcher = new Watch(kubeConfig);
    this.path = `/api/v1/namespaces/${client.namespace}/pods`;
  }

  /** Lists the pods and starts watching; rejects when the first list fails (the cluster cannot be used). */
  async start(): Promise<void> {
    await this.relist();
    this.watch();
  }

  get(name: string): V1Pod | undefined {
    return this.pods.get(name);
  }

  list(): V1Pod[] {
    return [...this.pods.values()];
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
    this.generation++;
    this.cancelRestart?.();
    this.controller?.abort();
  }

  /** Replaces the view with a fresh list, telling what changed and what went. */
  private async relist(): Promise<void> {
    const list = await this.client.listWithVersion(this.labelSelector);
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata?.name;
      if (!name) continue;
      seen.add(name);
      this.pods.set(name, pod);
      this.emit(pod, false);
    }
    for (const [name, pod] of [...this.pods]) {
      if (seen.has(name)) continue;
      this.pods.delete(name);
      this.emit(pod, true);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  private watch(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation && !this.stopped;
    const ended = (err: unknown): void => {
      if (!current()) return;
      this.generation++;
      if (err) {
        this.failures++;
        this.onError(err);
      } else {
        this.failures = 0;
      }
      this.restart(err ? this.backoff() : 0);
    };
    this.watcher
      .watch(
        this.path,
        { labelSelector: this.labelSelector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
        (type: string, object: V1Pod & { code?: number }) => {
          if (!current()) return;
          if (type === 'ERROR') {
            // 410 Gone: the version was compacted; the server ends this watch, and the next one lists first.
            if (object.code === 410) this.resourceVersion = '';
            return;
          }
          const name = object.metadata?.name;
          if (type === 'DELETED' && name) {
            this.pods.delete(name);
            this.emit(object, true);
          } else if ((type === 'ADDED' || type === 'MODIFIED') && name) {
            this.pods.set(name, object);
            this.emit(object, false);
          }
          this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
        },
        ended,
      )
      .then(
        (controller) => {
          if (current()) this.controller = controller;
          else controller.abort();
        },
        ended,
      );
  }

  private backoff(): number {
    const ms = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.max(0, this.failures - 1));
    return ms / 2 + Math.random() * (ms / 2);
  }

  /** Watches again after `ms`, listing first when the version to resume from is gone. */
  private restart(ms: number): void {
    this.cancelRestart = this.clock.after(ms, () => {
      if (this.stopped) return;
      this.restarts++;
      const resume = this.resourceVersion ? Promise.resolve() : this.relist();
      resume.then(
        () => this.watch(),
        (err: unknown) => {
          this.failures++;
          this.onError(err);
          this.restart(this.backoff());
        },
      );
    });
  }

  private emit(pod: V1Pod, deleted: boolean): void {
    for (const listener of [...this.anyListeners]) listener(pod, deleted);
    const name = pod.metadata?.name;
    if (name) for (const listener of [...(this.listeners.get(name) ?? [])]) listener(pod, deleted);
  }
}
