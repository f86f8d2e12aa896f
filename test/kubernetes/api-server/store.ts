/**
 * The object store behind the test API server: pods by namespace, one resource-version counter
 * (as etcd's revision), a bounded window of past events (older resource versions get 410 Gone, as
 * after etcd compaction), and watchers filtered by namespace and label selector.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { LabelSelector } from './labels.js';
import { alreadyExists, conflict, gone, invalid, notFound } from './status.js';
import type { Pod, WatchEvent } from './types.js';
import { validatePod, validatePodUpdate } from './validation.js';

interface Watcher {
  namespace: string;
  selector: LabelSelector;
  send(event: WatchEvent): void;
}

interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The object before the change (MODIFIED), for selector transitions. */
  before: Pod | undefined;
  object: Pod;
}

const clone = <T>(value: T): T => structuredClone(value);
const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export class PodStore {
  private readonly pods = new Map<string, Pod>();
  private readonly history: Change[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly listeners = new Set<(change: Change) => void>();
  private revision = 1;

  /**
   * @param historySize events kept for watches that resume; older resource versions get 410.
   * @param nameSuffix makes the suffix of a `generateName` (5 random characters, as the real server)
   */
  constructor(
    private readonly historySize = 1000,
    private readonly nameSuffix: () => string = () => randomBytes(3).toString('hex').slice(0, 5),
  ) {}

  get resourceVersion(): string {
    return String(this.revision);
  }

  /** In-process subscription (the node agent): every change, unfiltered. */
  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  create(namespace: string, input: Pod): Pod {
    const pod = clone(input);
    pod.metadata ??= {};
    // As the real server: a generated name that is taken is a 409, never a second try.
    if (!pod.metadata.name && pod.metadata.generateName) pod.metadata.name = `${pod.metadata.generateName}${this.nameSuffix()}`;
    if (pod.metadata.namespace && pod.metadata.namespace !== namespace) {
      throw invalid(pod.metadata.name ?? '', [{ field: 'metadata.namespace', reason: 'FieldValueInvalid', message: 'Invalid value: the namespace of the provided object does not match the namespace sent on the request' }]);
    }
    const errors = validatePod(pod);
    if (errors.length) throw invalid(pod.metadata.name ?? '', errors);
    const name = pod.metadata.name!;
    if (this.pods.has(keyOf(namespace, name))) throw alreadyExists(name);
    pod.apiVersion = 'v1';
    pod.kind = 'Pod';
    pod.metadata.namespace = namespace;
    pod.metadata.uid = randomUUID();
    pod.metadata.creationTimestamp = new Date().toISOString();
    pod.spec.restartPolicy ??= 'Always';
    pod.spec.terminationGracePeriodSeconds ??= 30;
    pod.status = { phase: 'Pending' };
    return this.commit('ADDED', namespace, undefined, pod);
  }

  get(namespace: string, name: string): Pod {
    const pod = this.pods.get(keyOf(namespace, name));
    if (!pod) throw notFound(name);
    return clone(pod);
  }

  list(namespace: string, selector: LabelSelector): { items: Pod[]; resourceVersion: string } {
    const items = [...this.pods.values()].filter((pod) => pod.metadata.namespace === namespace && selector.matches(pod.metadata.labels)).map(clone);
    return { items, resourceVersion: this.resourceVersion };
  }

  /**
   * Replaces a pod with `change(current)`; `expectedRv`, when given, must be the current resource
   * version (optimistic concurrency), else 409 Conflict. Spec changes are checked as the real
   * server checks pod updates; `status` is the kubelet's subresource (no spec checks).
   */
  update(namespace: string, name: string, change: (pod: Pod) => Pod, options: { expectedRv?: string; status?: boolean } = {}): Pod {
    const current = this.pods.get(keyOf(namespace, name));
    if (!current) throw notFound(name);
    if (options.expectedRv !== undefined && options.expectedRv !== current.metadata.resourceVersion) throw conflict(name);
    const next = change(clone(current));
    if (options.status) {
      next.spec = clone(current.spec);
      next.metadata = clone(current.metadata);
    } else {
      next.status = clone(current.status);
      // Set by the server only.
      const { uid, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds } = current.metadata;
      Object.assign(next.metadata, { uid, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds });
      const errors = validatePodUpdate(next, current);
      if (errors.length) throw invalid(name, errors);
    }
    return this.commit('MODIFIED', namespace, current, next);
  }

  /** Binds a pod to a node (what the scheduler does through the binding subresource). */
  bind(namespace: string, name: string, nodeName: string): Pod {
    const current = this.pods.get(keyOf(namespace, name));
    if (!current) throw notFound(name);
    if (current.spec.nodeName) throw conflict(name);
    const next = clone(current);
    next.spec.nodeName = nodeName;
    return this.commit('MODIFIED', namespace, current, next);
  }

  /** Marks a pod for graceful deletion (the kubelet finishes it), or removes it when the grace is 0. */
  delete(namespace: string, name: string, gracePeriodSeconds?: number): Pod {
    const current = this.pods.get(keyOf(namespace, name));
    if (!current) throw notFound(name);
    const grace = gracePeriodSeconds ?? current.spec.terminationGracePeriodSeconds ?? 30;
    // Immediate removal: a grace of 0, or a pod no kubelet runs (not scheduled, or already ended).
    const ended = current.status?.phase === 'Succeeded' || current.status?.phase === 'Failed';
    if (grace === 0 || !current.spec.nodeName || ended) return this.remove(namespace, name);
    if (current.metadata.deletionTimestamp) return clone(current);
    const next = clone(current);
    next.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString();
    next.metadata.deletionGracePeriodSeconds = grace;
    return this.commit('MODIFIED', namespace, current, next);
  }

  /** Removes a pod for good (the kubelet confirmed its containers ended, or a forced delete). */
  remove(namespace: string, name: string): Pod {
    const current = this.pods.get(keyOf(namespace, name));
    if (!current) throw notFound(name);
    return this.commit('DELETED', namespace, current, clone(current));
  }

  /**
   * Streams changes after `fromRv` (all current objects as ADDED first when it is empty or "0")
   * to `send`; answers the function that stops it. Throws 410 Gone when `fromRv` is older than
   * the history kept.
   */
  watch(namespace: string, selector: LabelSelector, fromRv: string, send: (event: WatchEvent) => void): () => void {
    const watcher: Watcher = { namespace, selector, send };
    if (!fromRv || fromRv === '0') {
      for (const pod of this.list(namespace, selector).items) send({ type: 'ADDED', object: pod });
    } else {
      const from = Number(fromRv);
      const oldest = this.history[0]?.rv ?? this.revision + 1;
      if (!Number.isInteger(from) || (from < oldest - 1 && from < this.revision)) throw gone(fromRv);
      for (const change of this.history) if (change.rv > from) this.deliver(watcher, change);
    }
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  private commit(type: Change['type'], namespace: string, before: Pod | undefined, object: Pod): Pod {
    this.revision++;
    object.metadata.resourceVersion = String(this.revision);
    const key = keyOf(namespace, object.metadata.name!);
    if (type === 'DELETED') this.pods.delete(key);
    else this.pods.set(key, object);
    const change: Change = { rv: this.revision, type, before, object };
    this.history.push(change);
    if (this.history.length > this.historySize) this.history.shift();
    for (const watcher of this.watchers) this.deliver(watcher, change);
    for (const listener of this.listeners) listener(change);
    return clone(object);
  }

  /** As the real watch cache: an object entering the selector is ADDED, one leaving it DELETED. */
  private deliver(watcher: Watcher, change: Change): void {
    if (change.object.metadata.namespace !== watcher.namespace) return;
    const now = watcher.selector.matches(change.object.metadata.labels);
    const was = change.before ? watcher.selector.matches(change.before.metadata.labels) : false;
    let type: WatchEvent['type'] | undefined;
    if (change.type === 'MODIFIED') type = now && was ? 'MODIFIED' : now ? 'ADDED' : was ? 'DELETED' : undefined;
    else type = now ? change.type : undefined;
    if (type) watcher.send({ type, object: clone(change.object) });
  }

  /** Forgets past events (as etcd compaction): watches resuming from before now get 410. */
  compact(): void {
    this.history.length = 0;
  }
}
