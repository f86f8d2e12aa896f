import { type AsyncPolicy, asyncPolicyOf } from '../core/async-policy.js';
import type { InvokeAuth } from '../core/invoke-auth.js';
import { type InstanceLimits, instanceLimitsOf, type NetworkPolicy } from '../core/spec.js';
import { functionHostUrl } from '../http/function-host.js';
import type { FunctionRecord } from '../store/types.js';
import type { FunctionView } from './wire.js';

export type { FunctionView } from './wire.js';

/** What the instances of a function look like right now (the backend's status of it). */
export interface InstanceStatus {
  /** Running instances (starting, ready or draining). */
  instances: number;
  /** Instances of the current version ready to serve. */
  ready: number;
  /** Instances the autoscaler currently wants. */
  desired: number;
  /** The last failed instance start (epoch ms), until an instance starts again. */
  lastStartError?: { message: string; at: number } | undefined;
}

/** What {@link FunctionViews} needs. */
export interface FunctionViewDeps {
  /** The instances of a function, from the backend. */
  status(name: string): InstanceStatus;
  /** Instance limits of functions that set none of their own (shown in their view). */
  instanceLimits: InstanceLimits;
  /** Auth of functions deployed without one (see defaultInvokeAuth). @default 'public' */
  defaultAuth?: InvokeAuth;
  /** Functions also answer at `<name>.<domain>` (see function-host.ts); empty or absent: not shown. */
  domain?: string;
}

/** Makes the API representation of functions: their stored settings and their instances now. */
export class FunctionViews {
  constructor(private readonly deps: FunctionViewDeps) {}

  /** The API representation; `baseUrl` is how the caller reaches the platform. */
  view(record: FunctionRecord, baseUrl: string): FunctionView {
    const { spec } = record;
    const status = this.deps.status(spec.name);
    return {
      name: spec.name,
      runtime: spec.runtime,
      handler: spec.handler,
      ...(spec.protocol ? { protocol: spec.protocol } : {}),
      version: record.version,
      package: spec.packageSha256,
      env: spec.env,
      secrets: spec.secrets ?? [],
      timeout: spec.timeoutMs / 1000,
      memory: spec.memoryMb,
      idleTimeout: spec.idleTimeoutMs / 1000,
      concurrency: spec.concurrency,
      maxInstances: spec.maxInstances,
      minInstances: spec.minInstances ?? 0,
      network: spec.network ?? 'outbound',
      ...viewLimits(instanceLimitsOf(spec, this.deps.instanceLimits)),
      auth: spec.auth ?? this.deps.defaultAuth ?? 'public',
      ...viewAsync(asyncPolicyOf(spec)),
      url: `${baseUrl}/fn/${spec.name}`,
      ...(this.deps.domain ? { hostUrl: functionHostUrl(baseUrl, spec.name, this.deps.domain) } : {}),
      instances: status.instances,
      readyInstances: status.ready,
      desired: status.desired,
      ...(status.lastStartError ? { lastStartError: { message: status.lastStartError.message, at: new Date(status.lastStartError.at).toISOString() } } : {}),
      createdAt: new Date(record.createdAt).toISOString(),
      updatedAt: new Date(record.updatedAt).toISOString(),
    };
  }
}

/** The async policy in effect, times in seconds like the other settings; destinations only when set. */
function viewAsync(policy: AsyncPolicy): Pick<FunctionView, 'asyncConcurrency' | 'maxRetries' | 'retryDelay' | 'maxEventAge' | 'onSuccess' | 'onFailure'> {
  return {
    asyncConcurrency: policy.asyncConcurrency,
    maxRetries: policy.maxRetries,
    retryDelay: policy.retryDelayMs / 1000,
    maxEventAge: policy.maxEventAgeMs / 1000,
    ...(policy.onSuccess !== undefined ? { onSuccess: policy.onSuccess } : {}),
    ...(policy.onFailure !== undefined ? { onFailure: policy.onFailure } : {}),
  };
}

function viewLimits(limits: InstanceLimits): Pick<FunctionView, 'maxProcesses' | 'maxOpenFiles' | 'tmpSize'> {
  return { maxProcesses: limits.maxProcesses, maxOpenFiles: limits.maxOpenFiles, tmpSize: limits.tmpMb };
}
