import { type InvokeAuth, LIMITS } from '../api/wire.js';
import { DEFAULT_PACKAGE_LIMITS } from '../packages/types.js';
import type { SandboxMode } from '../sandbox/modes.js';

/**
 * Every default of the platform, in one place: `compileServerOptions` fills absent options from
 * here, and `nimbus up --help` shows these values, so what the help says is what runs.
 *
 * Pure constants that load nothing of the platform (the CLI's help imports this file). Defaults a
 * part's contract owns (instance limits in the API's LIMITS, package limits of the repository)
 * are referenced rather than copied, so each value is written once.
 */
export const SERVER_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  /** Relative to the working directory. */
  dataDir: './.nimbus',
  /** 6 MB */
  maxBodyBytes: 6 * 1024 * 1024,
  packageLimits: Object.freeze({ ...DEFAULT_PACKAGE_LIMITS }),
  scaleIntervalMs: 1000,
  maxQueue: 1000,
  maxQueueWaitMs: 10_000,
  warmPoolSize: 1,
  sandbox: 'auto' as SandboxMode,
  instanceLimits: Object.freeze({
    maxProcesses: LIMITS.maxProcesses.default,
    maxOpenFiles: LIMITS.maxOpenFiles.default,
    tmpMb: LIMITS.tmpMb.default,
  }),
  startTimeoutMs: 10_000,
  stopGraceMs: 3000,
  /**
   * Auth of functions deployed without one, by where the platform listens: exposing the platform
   * beyond loopback never silently exposes every function.
   */
  defaultAuth: Object.freeze({ loopback: 'public' as InvokeAuth, beyondLoopback: 'key' as InvokeAuth }),
  domain: 'localhost',
  allowHostNetwork: false,
  exposeErrors: false,
  metricsPublic: false,
  /** Of the platform's own log, unless NIMBUS_LOG_LEVEL says otherwise. */
  logLevel: 'info',
  /** Ended async invocation records are kept this long (7 days). */
  retainMs: 7 * 86_400_000,
  maxEndedInvocations: 100_000,
  /** Every invocation leaves a history record (history.db) and is metered in the ledger. */
  records: true,
  /** Prometheus metrics are kept and served at /metrics. */
  metrics: true,
  /** Raw history records kept at most (the ledger's hourly roll-ups are not counted). */
  maxRecords: 1_000_000,
  /** Empty: callbacks may go to any host (see callbackHosts in server-options.ts for the risk). */
  callbackHosts: Object.freeze([]) as readonly string[],
  asyncWorkers: 256,
  /** A function's async backlog at which its triggers stop taking events until it drains. */
  triggerBacklog: 1000,
  /** `service.name` of the platform's spans, unless OTEL_SERVICE_NAME says otherwise (in `nimbus up`). */
  serviceName: 'nimbus',
  /** Function output kept on disk per function: 4 segments of 8 MiB. */
  logRetentionBytes: 32 * 1024 * 1024,
  /** Where function instances run: local processes, or pods of a Kubernetes cluster. */
  backend: 'local' as 'local' | 'kubernetes',
  kubernetes: Object.freeze({
    /** Namespace of the function pods. */
    namespace: 'nimbus-fn',
    /** Images of the generic runtimes (built from deploy/kubernetes/Dockerfile.runtime-*). */
    images: Object.freeze({ node: 'ghcr.io/nimbus-faas/runtime-node:0.1.0', python: 'ghcr.io/nimbus-faas/runtime-python:0.1.0' }),
    /** Port of the package server pods fetch their code from. */
    packagePort: 8081,
  }),
});

/** An inclusive range of whole numbers; `max` Infinity: no upper bound. */
export interface Range {
  min: number;
  max: number;
}

/**
 * Allowed values of the numeric options, shared by `compileServerOptions` and the flags of
 * `nimbus up`, so both refuse the same values.
 */
export const SERVER_OPTION_RANGES = Object.freeze({
  port: { min: 0, max: 65_535 },
  maxBodyBytes: { min: 1, max: Infinity },
  scaleIntervalMs: { min: 10, max: 60_000 },
  maxQueue: { min: 1, max: 1_000_000 },
  maxQueueWaitMs: { min: 1, max: 3_600_000 },
  warmPoolSize: { min: 0, max: 100 },
  startTimeoutMs: { min: 100, max: 600_000 },
  stopGraceMs: { min: 0, max: 600_000 },
  packageLimit: { min: 1, max: Infinity },
  maxProcesses: { min: LIMITS.maxProcesses.min, max: LIMITS.maxProcesses.max },
  maxOpenFiles: { min: LIMITS.maxOpenFiles.min, max: LIMITS.maxOpenFiles.max },
  tmpMb: { min: LIMITS.tmpMb.min, max: LIMITS.tmpMb.max },
  /** A minute to a year. */
  retainMs: { min: 60_000, max: 365 * 86_400_000 },
  /** Fewer would let a burst of invocations sweep away the records callers are about to read. */
  maxEndedInvocations: { min: 1000, max: Infinity },
  asyncWorkers: { min: 1, max: 10_000 },
  triggerBacklog: { min: 1, max: 1_000_000 },
  maxRecords: { min: 1000, max: Infinity },
  /** At least 4 KiB (4 segments of 1 KiB), so a segment holds a few lines. */
  logRetentionBytes: { min: 4096, max: Infinity },
} satisfies Record<string, Range>);

/** The choices of the `sandbox` option. */
export { SANDBOX_MODES } from '../sandbox/modes.js';

/** Where function instances can run. */
export const BACKENDS = ['local', 'kubernetes'] as const;
