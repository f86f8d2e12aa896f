/** The part of the Pod object (core/v1) the test API server reads; everything else is kept as sent. */
export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec: {
    containers: {
      name: string;
      image: string;
      command?: string[];
      args?: string[];
      env?: { name: string; value?: string }[];
      ports?: { containerPort: number; name?: string }[];
      resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
      readinessProbe?: { httpGet?: { path?: string; port: number | string }; periodSeconds?: number };
      [key: string]: unknown;
    }[];
    restartPolicy?: string;
    terminationGracePeriodSeconds?: number;
    activeDeadlineSeconds?: number;
    tolerations?: unknown[];
    nodeName?: string;
    [key: string]: unknown;
  };
  status?: PodStatus;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started?: boolean;
  state: {
    waiting?: { reason: string };
    running?: { startedAt: string };
    terminated?: { exitCode: number; reason: string; signal?: number; startedAt?: string; finishedAt: string; message?: string };
  };
}

export interface PodStatus {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  startTime?: string;
  conditions?: { type: string; status: 'True' | 'False'; lastTransitionTime: string; reason?: string }[];
  containerStatuses?: ContainerStatus[];
  reason?: string;
  message?: string;
}

/** A watch event as the API server streams it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR' | 'BOOKMARK';
  object: Pod | Status;
}

/** metav1.Status: every error answer of the API server. */
export interface Status {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  code: number;
  details?: { name?: string; kind?: string; causes?: { field: string; reason: string; message: string }[]; retryAfterSeconds?: number };
}
