/**
 * The pod of a generic runtime instance, built by a pure function: what a pod may do is decided
 * here, in one place, and checked against the Kubernetes schema in the tests.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { InstanceLimits, NetworkPolicy, RuntimeName } from '../../core/spec.js';
import { LABELS } from './labels.js';

/** Port the runtime shim listens on inside the pod (NIMBUS_LISTEN_PORT). */
export const RUNTIME_PORT = 8080;
/** V8's heap limit as a share of the pod's memory (as for local instances). */
const NODE_HEAP_SHARE = 0.8;
/** Uid and gid the runtime runs as: not root, and no user the image knows. */
export const RUNTIME_UID = 65532;

/** What a pod is started with: fixed for its life, so pools are kept per profile. */
export interface PodProfile {
  runtime: RuntimeName;
  memoryMb: number;
  network: NetworkPolicy;
  limits: InstanceLimits;
}

/** The cluster-wide settings of function pods. */
export interface PodSettings {
  /** Image of each runtime's generic shim. */
  images: Partial<Record<RuntimeName, string>>;
  /** Identifies the control plane that owns the pods (a label value). */
  owner: string;
  /** CPU limit per GB of memory, in millicores (Lambda-style: CPU follows memory). @default 1000 */
  cpuMillisPerGb?: number;
  /** RuntimeClass for stronger isolation (gVisor `gvisor`, Kata `kata`); none by default. */
  runtimeClassName?: string;
  /** Seconds between SIGTERM and SIGKILL when a pod is deleted. @default 3 */
  terminationGraceSeconds?: number;
}

/** Labels of a pod waiting in the warm pool for this profile. */
export function poolLabels(profile: PodProfile, owner: string): Record<string, string> {
  return {
    [LABELS.managedBy]: 'nimbus',
    [LABELS.owner]: owner,
    [LABELS.runtime]: profile.runtime,
    [LABELS.memory]: String(profile.memoryMb),
    [LABELS.network]: profile.network,
    [LABELS.role]: 'warm',
  };
}

/**
 * A generic runtime pod of `profile`: non-root, read-only root filesystem, every capability dropped,
 * seccomp RuntimeDefault, no service-account token, memory and CPU limits, /tmp an emptyDir of the
 * function's size, and `labels` (the pool's, or a function's). The shim waits for its init.
 */
export function runtimePod(profile: PodProfile, settings: PodSettings, labels: Record<string, string>): V1Pod {
  const image = settings.images[profile.runtime];
  if (!image) throw new Error(`no image is configured for the ${profile.runtime} runtime`);
  const cpuMillis = Math.max(50, Math.round(((settings.cpuMillisPerGb ?? 1000) * profile.memoryMb) / 1024));
  const memory = `${profile.memoryMb}Mi`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `nimbus-${profile.runtime}-${profile.memoryMb}-`,
      labels: { ...labels },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: settings.terminationGraceSeconds ?? 3,
      ...(settings.runtimeClassName ? { runtimeClassName: settings.runtimeClassName } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RUNTIME_UID,
        runAsGroup: RUNTIME_UID,
        fsGroup: RUNTIME_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'runtime',
          image,
          args: ['--memory-mb', String(profile.memoryMb)],
          env: [
            { name: 'NIMBUS_LISTEN_PORT', value: String(RUNTIME_PORT) },
            // V8's heap limit, as local node instances get it on their command line.
            ...(profile.runtime === 'node' ? [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${Math.max(16, Math.floor(profile.memoryMb * NODE_HEAP_SHARE))}` }] : []),
            { name: 'TMPDIR', value: '/tmp' },
            { name: 'HOME', value: '/tmp' },
          ],
          ports: [{ name: 'runtime', containerPort: RUNTIME_PORT, protocol: 'TCP' }],
          resources: {
            limits: { memory, cpu: `${cpuMillis}m`, 'ephemeral-storage': `${profile.limits.tmpMb}Mi` },
            requests: { memory, cpu: `${cpuMillis}m` },
          },
          readinessProbe: { httpGet: { path: '/__nimbus/health', port: RUNTIME_PORT }, periodSeconds: 1, failureThreshold: 1 },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: `${profile.limits.tmpMb}Mi` } }],
    },
  };
}
