/**
 * The Kubernetes API calls the backend makes, on `@kubernetes/client-node`, with back-off: 429
 * (the API server's priority and fairness throttling; its Retry-After is honoured), 5xx and
 * connection errors are retried a few times; everything else is the caller's to handle (a 409
 * Conflict means someone else changed the pod first).
 */
import { ApiException, CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod, type V1PodList } from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';

/** Attempts of one call before its error is given up to the caller. */
const ATTEMPTS = 6;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

/** The HTTP status of a failed API call (undefined for a connection error). */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

function retryable(err: unknown): boolean {
  const status = statusOf(err);
  return status === undefined || status === 429 || status >= 500;
}

function delayOf(err: unknown, attempt: number): number {
  const retryAfter = err instanceof ApiException ? Number(err.headers['retry-after']) : NaN;
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, 10_000);
  const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
  return backoff / 2 + Math.random() * (backoff / 2);
}

/** Pod calls in one namespace. */
export class PodClient {
  private readonly api: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    private readonly clock: Clock,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /**
   * Runs `call`, retrying what the API server says may be retried (and what `alsoRetry` says),
   * with jittered back-off.
   */
  private async retry<T>(call: () => Promise<T>, alsoRetry: (err: unknown) => boolean = () => false): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (attempt + 1 >= ATTEMPTS || !(retryable(err) || alsoRetry(err))) throw err;
        await new Promise<void>((resolve) => this.clock.after(delayOf(err, attempt), resolve));
      }
    }
  }

  /**
   * Creates a pod. A name made from `generateName` that happens to be taken answers 409
   * AlreadyExists (the API server does not pick another): the create is simply made again.
   */
  create(pod: V1Pod): Promise<V1Pod> {
    const generated = !pod.metadata?.name && Boolean(pod.metadata?.generateName);
    return this.retry(
      () => this.api.createNamespacedPod({ namespace: this.namespace, body: pod }),
      (err) => generated && statusOf(err) === 409,
    );
  }

  /** The pods matching `labelSelector`, with the list's resource version (where a watch starts). */
  listWithVersion(labelSelector: string): Promise<V1PodList> {
    return this.retry(() => this.api.listNamespacedPod({ namespace: this.namespace, labelSelector }));
  }

  /**
   * Replaces the pod's labels with a JSON merge patch (`null` removes one). With `resourceVersion`
   * the change applies only to that version of the pod (409 Conflict otherwise): how a warm pod is
   * claimed by one start and one only.
   */
  patchLabels(name: string, labels: Record<string, string | null>, resourceVersion?: string): Promise<V1Pod> {
    const body = { metadata: { labels, ...(resourceVersion ? { resourceVersion } : {}) } };
    return this.retry(() => this.api.patchNamespacedPod({ name, namespace: this.namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
  }

  get(name: string): Promise<V1Pod> {
    return this.retry(() => this.api.readNamespacedPod({ name, namespace: this.namespace }));
  }

  /** Deletes a pod (the kubelet stops it after `gracePeriodSeconds`); a pod already gone is fine. */
  async delete(name: string, gracePeriodSeconds: number): Promise<void> {
    try {
      await this.retry(() => this.api.deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds }));
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
}
