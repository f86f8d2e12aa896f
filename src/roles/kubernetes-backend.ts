/**
 * The Kubernetes backend of the gateway role: a KubernetesProvider on the cluster named by the
 * kubeconfig file, or on the cluster this control plane runs in (its service account) without one.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { CompiledServerOptions } from '../config/server-options.js';
import { KubernetesProvider } from '../providers/kubernetes/provider.js';
import type { FunctionRecord } from '../store/types.js';
import type { LogSink } from '../telemetry/logs.js';

/** What the backend needs from the rest of the platform. */
export interface KubernetesBackendDeps {
  codeDir(record: FunctionRecord): string;
  secretEnv(record: FunctionRecord): Promise<Record<string, string>>;
  logs: LogSink;
}

/** Loads the cluster config: the kubeconfig file when given, else the in-cluster config. */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const config = new KubeConfig();
  try {
    if (file) config.loadFromFile(file);
    else config.loadFromCluster();
  } catch (err) {
    const unreadable = new Error(`The kubeconfig ${file} cannot be read: ${(err as Error).message}`, { cause: err });
    unreadable.name = 'KubernetesUnavailableError';
    throw unreadable;
  }
  if (!config.getCurrentCluster()) throw Object.assign(new Error(`no current cluster in ${file ?? 'the in-cluster config'}: set current-context, or run inside a pod`), { name: 'KubernetesUnavailableError' });
  return config;
}

/** Starts the provider; rejects (and releases what it holds) when the cluster cannot be reached. */
export async function createKubernetesProvider(options: CompiledServerOptions, deps: KubernetesBackendDeps): Promise<KubernetesProvider> {
  const k8s = options.kubernetes;
  const { logger } = options;
  const provider = new KubernetesProvider({
    kubeConfig: loadKubeConfig(k8s.kubeconfig),
    namespace: k8s.namespace,
    // One control plane per functions namespace (one replica, Recreate): the pods a crashed
    // predecessor left are its own, deleted at start since nothing serves through them.
    owner: 'control-plane',
    clock: options.clock,
    images: k8s.images,
    codeDir: deps.codeDir,
    secretEnv: deps.secretEnv,
    logs: deps.logs,
    packageServer: {
      port: k8s.packagePort,
      ...(k8s.packageHost ? { host: k8s.packageHost } : {}),
      ...(k8s.packageUrl ? { publicUrl: k8s.packageUrl } : {}),
    },
    warmPoolSize: options.warmPoolSize,
    startTimeoutMs: options.startTimeoutMs,
    stopGraceSeconds: Math.max(1, Math.ceil(options.stopGraceMs / 1000)),
    limits: options.instanceLimits,
    meterCpu: options.records,
    ...(k8s.runtimeClassName ? { runtimeClassName: k8s.runtimeClassName } : {}),
    onError: (err) => logger.warn({ err }, 'kubernetes backend'),
  });
  try {
    await provider.whenReady();
  } catch (err) {
    await provider.shutdown().catch(() => undefined);
    const server = provider.server;
    const unavailable = new Error(`The Kubernetes API at ${server} could not be used (namespace ${k8s.namespace}): ${(err as Error).message}`, { cause: err });
    unavailable.name = 'KubernetesUnavailableError';
    throw unavailable;
  }
  logger.info({ server: provider.server, namespace: k8s.namespace }, 'functions run as pods');
  return provider;
}
