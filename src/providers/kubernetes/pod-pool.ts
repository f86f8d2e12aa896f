/**
 * The warm pool: generic runtime pods per profile (runtime, memory, network, limits), started
 * ahead of demand and waiting for a function. A start claims one by relabelling it with the
 * function's labels, on the resource version it last saw (409 Conflict: another start or control
 * plane changed it first, so it tries the next). A claimed pod never returns to the pool.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';
import { type PodClient, statusOf } from './cluster.js';
import { LABELS } from './labels.js';
import { probePod, waitForPodIp } from './pod-ready.js';
import { type PodProfile, type PodSettings, poolLabels, runtimePod } from './pod-spec.js';
import type { PodWatch } from './pod-watch.js';

export interface PodPoolOptions {
  pods: PodClient;
  watch: PodWatch;
  clock: Clock;
  settings: PodSettings;
  /** Pods kept waiting per profile (0: none, every start creates a pod). */
  size: number;
  /** Profiles kept warm from the start. */
  always: PodProfile[];
  startTimeoutMs: number;
  onError(err: unknown): void;
}

interface WarmPod {
  name: string;
  /** Set once it runs and its shim answers. */
  ip?: string;
}

/** After a pod of a profile failed to start, the pool waits this long before the next. */
const REFILL_BACKOFF_MS = 2000;

export const profileKey = (p: PodProfile): string => `${p.runtime}/${p.memoryMb}/${p.network}/${p.limits.tmpMb}`;

export class PodPool {
  private readonly warm = new Map<string, Map<string, WarmPod>>();
  private readonly profiles = new Map<string, PodProfile>();
  private readonly creating = new Map<string, number>();
  private readonly backoffUntil = new Map<string, number>();
  /** Create calls under way: a shutdown waits for them, so it can delete what they made. */
  private readonly createCalls = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: PodPoolOptions) {
    for (const profile of options.always) this.fill(profile);
    options.watch.onAny((pod, deleted) => {
      // A waiting pod that ended (evicted, crashed, deleted by an operator) leaves the pool.
      const name = pod.metadata?.name;
      if (!name || pod.metadata?.labels?.[LABELS.role] !== 'warm') return;
      if (deleted || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded' || pod.metadata?.deletionTimestamp) {
        for (const [key, pods] of this.warm) if (pods.delete(name)) this.fill(this.profiles.get(key)!);
      }
    });
  }

  /** Pods waiting and ready now, across profiles. */
  get readyCount(): number {
    return [...this.warm.values()].reduce((sum, pods) => sum + [...pods.values()].filter((p) => p.ip).length, 0);
  }

  /**
   * Claims a ready pod of `profile` for a function (its labels replace the pool's); undefined when
   * none is ready. Refills the pool either way.
   */
  async claim(profile: PodProfile, labels: Record<string, string>): Promise<{ pod: V1Pod; ip: string } | undefined> {
    const key = profileKey(profile);
    const pods = this.warm.get(key);
    this.fill(profile, 1);
    for (const candidate of [...(pods?.values() ?? [])]) {
      if (!candidate.ip) continue;
      pods!.delete(candidate.name);
      const claimed = await this.relabel(candidate.name, labels);
      if (claimed) {
        this.fill(profile);
        return { pod: claimed, ip: candidate.ip };
      }
    }
    return undefined;
  }

  /** Relabels a warm pod on the version last seen; retries once on a status change (the kubelet's). */
  private async relabel(name: string, labels: Record<string, string>): Promise<V1Pod | undefined> {
    const change = { ...labels, [LABELS.role]: 'function' };
    for (let attempt = 0; attempt < 3; attempt++) {
      const seen = attempt === 0 ? this.options.watch.get(name) : await this.options.pods.get(name).catch(() => undefined);
      if (!seen || seen.metadata?.labels?.[LABELS.role] !== 'warm' || seen.metadata.deletionTimestamp || seen.status?.phase !== 'Running') return undefined;
      try {
        return await this.options.pods.patchLabels(name, change, seen.metadata.resourceVersion);
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        if (statusOf(err) !== 409) {
          this.options.onError(err);
          return undefined;
        }
      }
    }
    return undefined;
  }

  /** Starts pods of `profile` until `size` (+ `extra` being taken now) wait or are starting. */
  fill(profile: PodProfile, extra = 0): void {
    if (this.closed || this.options.size === 0) return;
    const key = profileKey(profile);
    this.profiles.set(key, profile);
    if ((this.backoffUntil.get(key) ?? 0) > this.options.clock.now()) return;
    const have = (this.warm.get(key)?.size ?? 0) + (this.creating.get(key) ?? 0);
    for (let i = have; i < this.options.size + extra; i++) void this.startOne(key, profile);
  }

  private async startOne(key: string, profile: PodProfile): Promise<void> {
    this.creating.set(key, (this.creating.get(key) ?? 0) + 1);
    let name: string | undefined;
    try {
      const call = this.options.pods.create(runtimePod(profile, this.options.settings, poolLabels(profile, this.options.settings.owner)));
      this.createCalls.add(call);
      const created = await call.finally(() => this.createCalls.delete(call));
      name = created.metadata!.name!;
      if (this.closed) throw new Error('the pool was shut down');
      const entry: WarmPod = { name };
      let pods = this.warm.get(key);
      if (!pods) this.warm.set(key, (pods = new Map()));
      pods.set(name, entry);
      this.creating.set(key, this.creating.get(key)! - 1);
      const ip = await waitForPodIp(this.options.watch, name, this.options.startTimeoutMs, this.options.clock);
      await probePod(ip, this.options.startTimeoutMs, this.options.clock);
      if (pods.get(name) === entry) entry.ip = ip;
    } catch (err) {
      if (name === undefined) this.creating.set(key, this.creating.get(key)! - 1);
      else {
        this.warm.get(key)?.delete(name);
        void this.options.pods.delete(name, 0).catch(() => undefined);
      }
      if (this.closed) return;
      this.backoffUntil.set(key, this.options.clock.now() + REFILL_BACKOFF_MS);
      this.options.onError(err);
    }
  }

  /** Stops filling and deletes the waiting pods. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.createCalls]);
    const names = [...this.warm.values()].flatMap((pods) => [...pods.keys()]);
    this.warm.clear();
    await Promise.all(names.map((name) => this.options.pods.delete(name, 0).catch(() => undefined)));
  }
}
