/**
 * One function instance on a pod: an HTTP client to the pod's runtime shim, and the pod's life as
 * the watch reports it (ended when its container ended or the pod was deleted).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { Pool } from 'undici';
import { LIMITS } from '../../core/spec.js';
import type { FunctionRecord } from '../../store/types.js';
import type { ProvidedInstance } from '../types.js';
import type { PodClient } from './cluster.js';
import { ended, termination } from './pod-state.js';
import { RUNTIME_PORT } from './pod-spec.js';
import type { PodWatch } from './pod-watch.js';

/** Grace of a killed pod (see {@link PodInstance.kill}). */
const KILL_GRACE_SECONDS = 1;

export class PodInstance implements ProvidedInstance {
  readonly id: string;
  /** Milliseconds from asking for a pod to the handler loaded. */
  startMs = 0;
  dispatcher: Pool;
  readonly exited: Promise<void>;
  private markExited!: () => void;
  private lastSeen: V1Pod | undefined;
  private deleted = false;
  private gone = false;
  private readonly unsubscribe: () => void;

  constructor(
    readonly record: FunctionRecord,
    readonly podName: string,
    ip: string,
    private readonly pods: PodClient,
    watch: PodWatch,
    private readonly graceSeconds: number,
  ) {
    this.id = podName;
    this.exited = new Promise<void>((resolve) => (this.markExited = resolve));
    this.dispatcher = new Pool(`http://${ip}:${RUNTIME_PORT}`, {
      connections: LIMITS.concurrency.max,
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 60_000,
    });
    this.unsubscribe = watch.onPod(podName, (pod, deleted) => this.seen(pod, deleted));
    const current = watch.get(podName);
    if (current) this.seen(current, false);
  }

  private seen(pod: V1Pod, deleted: boolean): void {
    this.lastSeen = pod;
    this.deleted ||= deleted;
    if (this.gone) return;
    // A pod being deleted still drains its in-flight requests: it has ended only once its
    // container has, or the object is gone.
    const containerEnded = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (deleted || containerEnded) this.end();
  }

  private end(): void {
    this.gone = true;
    this.unsubscribe();
    void this.dispatcher.destroy().catch(() => undefined);
    this.markExited();
    // A pod whose container ended by itself (a crash, OOM) is not deleted by anyone else.
    if (!this.deleted && this.lastSeen && !this.lastSeen.metadata?.deletionTimestamp) void this.pods.delete(this.podName, 0).catch(() => undefined);
  }

  /** Graceful stop: the pod is deleted with its grace period (SIGTERM: the shim drains). */
  async stop(): Promise<void> {
    if (!this.gone) await this.pods.delete(this.podName, this.graceSeconds).catch(() => this.end());
    await this.exited;
  }

  /**
   * Ends the pod at once: deleted with the shortest grace (1 s) rather than none, because a pod
   * removed with no grace is gone from the API before the kubelet reports why its container
   * ended, and an invocation that failed because the container was OOMKilled must still learn so
   * (FUNCTION_OUT_OF_MEMORY). The instance serves nothing more from now on either way.
   */
  kill(): void {
    if (this.gone) return;
    void this.pods.delete(this.podName, KILL_GRACE_SECONDS).then(
      () => undefined,
      () => this.end(),
    );
  }

  exitReason(): string | undefined {
    if (!this.gone) return undefined;
    const terminated = this.lastSeen && termination(this.lastSeen);
    if (terminated?.reason === 'OOMKilled') return `was killed for exceeding its memory limit (${this.record.spec.memoryMb} MB)`;
    if (terminated) return `exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`;
    return this.deleted ? 'was deleted' : 'ended';
  }

  outOfMemory(): boolean {
    const terminated = this.lastSeen && termination(this.lastSeen);
    return terminated?.reason === 'OOMKilled';
  }

  /** True while the pod may serve. */
  get alive(): boolean {
    return !this.gone && !(this.lastSeen && ended(this.lastSeen));
  }
}
