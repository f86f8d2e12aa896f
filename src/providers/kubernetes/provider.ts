/**
 * Runs function instances as Kubernetes pods: generic runtime pods wait in a warm pool, and a cold
 * start specialises one (it fetches the function's code from the control plane's package server
 * with a one-time token, and loads it on `POST /__nimbus/init`, the runtime protocol local
 * instances speak, over TCP). Pods are followed with one watch, never polled.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../../core/clock.js';
import { NimbusError } from '../../core/errors.js';
import { initRequestOf, sendInit, StartTracker } from '../runtime-init.js';
import { DEFAULT_INSTANCE_LIMITS, instanceLimitsOf, type InstanceLimits, LIMITS, type RuntimeName } from '../../core/spec.js';
import { SERVER_DEFAULTS } from '../../config/server-defaults.js';
import type { FunctionRecord } from '../../store/types.js';
import type { LogSink } from '../../telemetry/logs.js';
import type { InstanceProvider } from '../types.js';
import { PodClient } from './cluster.js';
import { ANNOTATIONS, functionLabel, LABELS } from './labels.js';
import { PackageServer, type PackageServerOptions } from './package-server.js';
import { PodInstance } from './pod-instance.js';
import { followPodLogs } from './pod-logs.js';
import { PodPool } from './pod-pool.js';
import { waitForPodIp, waitHealthy } from './pod-ready.js';
import { type PodProfile, type PodSettings, poolLabels, runtimePod } from './pod-spec.js';
import { PodWatch } from './pod-watch.js';

/** Settings of the Kubernetes provider. */
export interface KubernetesProviderOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the function pods. */
  namespace: string;
  clock: Clock;
  /** Image of each runtime's generic shim (see deploy/kubernetes). */
  images: Partial<Record<RuntimeName, string>>;
  /** Where a function version's built code lives (served to its pods). */
  codeDir(record: FunctionRecord): string;
  /** Environment variables added to a function's `env` when an instance starts (its secrets). */
  secretEnv?(record: FunctionRecord): Promise<Record<string, string>>;
  /** Where the package server listens and how pods reach it. */
  packageServer?: PackageServerOptions;
  /** Identifies this control plane's pods; its leftover pods from an earlier run are deleted at start. @default random */
  owner?: string;
  /** Limit for a pod to run and load its handler. @default 10000 (the local default) */
  startTimeoutMs?: number;
  /** Seconds between SIGTERM and SIGKILL when a pod is deleted. @default 3 */
  stopGraceSeconds?: number;
  /** Generic pods kept waiting per runtime and memory size (may be 0). @default 1 */
  warmPoolSize?: number;
  /** Memory sizes kept warm from the start. @default the default memory size */
  warmMemoryMb?: number[];
  /** RuntimeClass of function pods (gVisor, Kata); none by default. */
  runtimeClassName?: string;
  /** CPU limit per GB of memory, in millicores. @default 1000 */
  cpuMillisPerGb?: number;
  limits?: Partial<InstanceLimits>;
  /** Whether pods report each invocation's CPU time (read only into invocation records). @default true */
  meterCpu?: boolean;
  /** Where the pods' output goes (`nimbus logs`); none: it is not read. */
  logs?: LogSink;
  /** Reports a failure off the request path (a warm pod that could not start, a watch that failed). */
  onError?(err: unknown): void;
}

export class KubernetesProvider implements InstanceProvider {
  private readonly pods: PodClient;
  private readonly watch: PodWatch;
  private readonly packages: PackageServer;
  private readonly settings: PodSettings;
  private readonly limits: InstanceLimits;
  private readonly running = new Set<PodInstance>();
  private readonly starting = new StartTracker();
  private readonly ownerSelector: string;
  private readonly ready: Promise<void>;
  private pool: PodPool | undefined;
  private shuttingDown = false;

  constructor(private readonly options: KubernetesProviderOptions) {
    const owner = options.owner ?? `nimbus-${randomBytes(4).toString('hex')}`;
    this.limits = { ...DEFAULT_INSTANCE_LIMITS, ...options.limits };
    this.settings = {
      images: options.images,
      owner,
      terminationGraceSeconds: options.stopGraceSeconds ?? 3,
      ...(options.runtimeClassName ? { runtimeClassName: options.runtimeClassName } : {}),
      ...(options.cpuMillisPerGb ? { cpuMillisPerGb: options.cpuMillisPerGb } : {}),
    };
    this.ownerSelector = `${LABELS.managedBy}=nimbus,${LABELS.owner}=${owner}`;
    this.pods = new PodClient(options.kubeConfig, options.namespace, options.clock);
    this.watch = new PodWatch(options.kubeConfig, this.pods, this.ownerSelector, options.clock, options.onError);
    this.packages = new PackageServer(options.clock, options.packageServer);
    this.ready = this.begin();
    this.ready.catch(() => undefined);
  }

  /** Lists and watches this control plane's pods, removes leftovers, serves packages, fills the pool. */
  private async begin(): Promise<void> {
    await Promise.all([this.watch.start(), this.packages.listen()]);
    // Pods of an earlier run of this control plane: nobody serves through them any more.
    await Promise.all(this.watch.list().map((pod) => this.pods.delete(pod.metadata!.name!, 0)));
    const runtimes = (Object.keys(this.options.images) as RuntimeName[]).filter((runtime) => this.options.images[runtime]);
    this.pool = new PodPool({
      pods: this.pods,
      watch: this.watch,
      clock: this.options.clock,
      settings: this.settings,
      size: this.options.warmPoolSize ?? SERVER_DEFAULTS.warmPoolSize,
      always: runtimes.flatMap((runtime) => (this.options.warmMemoryMb ?? [LIMITS.memoryMb.default]).map((memoryMb) => ({ runtime, memoryMb, network: 'outbound' as const, limits: this.limits }))),
      startTimeoutMs: this.startTimeoutMs,
      onError: this.options.onError ?? (() => undefined),
    });
  }

  /** The API server's URL. */
  get server(): string {
    return this.options.kubeConfig.getCurrentCluster()?.server ?? 'unknown';
  }

  /** Resolves once the pods are watched and the package server listens; rejects when the cluster cannot be reached. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private get startTimeoutMs(): number {
    return this.options.startTimeoutMs ?? SERVER_DEFAULTS.startTimeoutMs;
  }

  /** Generic pods waiting and ready now, across profiles. */
  get spareCount(): number {
    return this.pool?.readyCount ?? 0;
  }

  start(fn: FunctionRecord): Promise<PodInstance> {
    return this.track(() => this.startInstance(fn, true));
  }

  /** Loads `fn` once in a pod of its own (never a warm one: it stays for the first invocation), then stops it. */
  async check(fn: FunctionRecord): Promise<void> {
    const instance = await this.track(() => this.startInstance(fn, false));
    await instance.stop();
  }

  list(name?: string): PodInstance[] {
    const all = [...this.running];
    return name === undefined ? all : all.filter((instance) => instance.record.spec.name === name);
  }

  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    await this.ready.catch(() => undefined);
    await this.starting.close();
    await Promise.all([this.pool?.shutdown(), ...[...this.running].map((instance) => instance.stop())]);
    // Whatever is left with our labels (a create whose answer was lost).
    const left = await this.pods.listWithVersion(this.ownerSelector).catch(() => undefined);
    await Promise.all((left?.items ?? []).map((pod) => this.pods.delete(pod.metadata!.name!, 0).catch(() => undefined)));
    await this.watch.stop();
    await this.packages.close();
  }

  /** Runs `start` unless shutting down, counting it among the starts a shutdown waits for. */
  private track(start: () => Promise<PodInstance>): Promise<PodInstance> {
    return this.starting.track(start);
  }

  private profileOf(fn: FunctionRecord): PodProfile {
    const { spec } = fn;
    return { runtime: spec.runtime, memoryMb: spec.memoryMb, network: spec.network ?? 'outbound', limits: instanceLimitsOf(spec, this.limits) };
  }

  private async startInstance(fn: FunctionRecord, pooled: boolean): Promise<PodInstance> {
    await this.ready;
    const began = this.options.clock.monotonic();
    const name = fn.spec.name;
    const secretEnv = this.options.secretEnv ? await this.options.secretEnv(fn) : {};
    const profile = this.profileOf(fn);
    const labels = { [LABELS.function]: functionLabel(name), [LABELS.version]: String(fn.version) };
    let podName: string;
    let ip: string | undefined;
    try {
      const claimed = pooled ? await this.pool!.claim(profile, labels) : undefined;
      if (claimed) {
        podName = claimed.pod.metadata!.name!;
        ip = claimed.ip;
      } else {
        const pod = runtimePod(profile, this.settings, { ...poolLabels(profile, this.settings.owner), ...labels, [LABELS.role]: 'function' });
        pod.metadata!.annotations = { [ANNOTATIONS.function]: name };
        podName = (await this.pods.create(pod)).metadata!.name!;
      }
    } catch (err) {
      throw new NimbusError('FUNCTION_START_FAILED', `No pod for "${name}" could be created: ${(err as Error).message}`, { cause: err });
    }
    try {
      ip ??= await waitForPodIp(this.watch, podName, this.startTimeoutMs, this.options.clock);
      const instance = new PodInstance(fn, podName, ip, this.pods, this.watch, this.settings.terminationGraceSeconds ?? 3);
      if (this.options.logs) {
        // From before the init, so a handler that fails to load is in the function's log too.
        const stopLogs = followPodLogs(this.options.kubeConfig, this.options.namespace, podName, name, this.options.logs, this.options.onError ?? (() => undefined));
        void instance.exited.then(stopLogs);
      }
      try {
        await waitHealthy(instance.dispatcher, this.startTimeoutMs, this.options.clock);
        await this.init(instance, fn, secretEnv);
      } catch (err) {
        instance.kill();
        await instance.exited;
        throw err;
      }
      instance.startMs = this.options.clock.monotonic() - began;
      if (this.shuttingDown) {
        await instance.stop();
        throw shuttingDown();
      }
      if (!instance.alive) throw new Error(`it ${instance.exitReason() ?? 'ended'} while starting`);
      this.running.add(instance);
      void instance.exited.then(() => this.running.delete(instance));
      return instance;
    } catch (err) {
      await this.pods.delete(podName, 0).catch(() => undefined);
      if (err instanceof NimbusError) throw err;
      throw new NimbusError('FUNCTION_START_FAILED', `The pod ${podName} of "${name}" failed to start: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Specialises the pod: its init names the code to fetch (one-time token) instead of a folder. */
  private async init(instance: PodInstance, fn: FunctionRecord, secretEnv: Record<string, string>): Promise<void> {
    const body = initRequestOf(fn, secretEnv, { codeDir: '', package: await this.packages.grant(this.options.codeDir(fn)) }, this.options.meterCpu ?? true);
    await sendInit(instance.dispatcher, body, this.startTimeoutMs, `The pod of "${fn.spec.name}" failed to load the handler`);
  }
}

function shuttingDown(): NimbusError {
  return new NimbusError('SHUTTING_DOWN', 'Nimbus is shutting down; retry against another instance or later.');
}
