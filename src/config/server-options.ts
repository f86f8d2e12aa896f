import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { InvokeAuth, RuntimeName } from '../api/wire.js';
import { type CallbackHostCheck, compileCallbackHosts } from '../async/callback-hosts.js';
import { type Clock, systemClock } from '../core/clock.js';
import { isLoopbackHost } from '../core/invoke-auth.js';
import type { InstanceLimits } from '../core/spec.js';
import type { PackageLimits } from '../packages/types.js';
import type { RuntimeAdapter } from '../runtime-adapters/types.js';
import type { SandboxMode } from '../sandbox/modes.js';
import { SERVER_DEFAULTS } from './server-defaults.js';
import { validateServerOptions } from './server-options-schema.js';

export { ServerOptionsError } from './server-options-schema.js';

/** Options of `startServer`, as callers give them; every one may be left out. */
export interface ServerOptions {
  /** Interface to listen on. @default 127.0.0.1 */
  host?: string;
  /** Port; 0 picks a free one. @default 8080 */
  port?: number;
  /** Where the store, packages and builds live. @default ./.nimbus */
  dataDir?: string;
  /** Largest invocation request body in bytes. @default 6 MB */
  maxBodyBytes?: number;
  /** Upload limits. @default DEFAULT_PACKAGE_LIMITS (50 MB compressed, 250 MB unpacked, 10000 entries) */
  packageLimits?: Partial<PackageLimits>;
  /** The autoscaler decides this often (ms). @default 1000 */
  scaleIntervalMs?: number;
  /** Requests allowed to wait for capacity per function. @default 1000 */
  maxQueue?: number;
  /**
   * Longest a request waits for capacity before 503 FUNCTION_OVERLOADED (ms); the function's own
   * timeout ends the wait sooner when it is shorter. @default 10000
   */
  maxQueueWaitMs?: number;
  /** Generic runtime processes kept ready per runtime. @default 1 */
  warmPoolSize?: number;
  /** Which sandbox runs instances: the best this host offers, or exactly one. @default auto */
  sandbox?: SandboxMode;
  /**
   * Instance limits (processes, open files, /tmp size) of functions that set none of their own.
   * @default 128 processes, 1024 open files, 64 MB /tmp (the API's LIMITS)
   */
  instanceLimits?: Partial<InstanceLimits>;
  /** Longest an instance may take to start and load its handler (ms). @default 10000 */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when an instance stops (ms). @default 3000 */
  stopGraceMs?: number;
  /** Auth of functions deployed without one. @default 'public' on a loopback host, else 'key' */
  defaultAuth?: InvokeAuth;
  /**
   * Requests to `<function>.<domain>[:port]` invoke that function at its own root; an empty string
   * turns this off. @default localhost
   */
  domain?: string;
  /**
   * Accept functions with network `host` although the platform listens beyond loopback (they
   * share the host's network, loopback services included). @default false
   */
  allowHostNetwork?: boolean;
  /** Runtime adapters replacing the built-in ones (tests inject runtimes that fail to start). */
  runtimes?: Partial<Record<RuntimeName, RuntimeAdapter>>;
  /**
   * Show every invocation's caller the function's own error text (development only); otherwise
   * only callers presenting an API token of scope `read` see it. @default false
   */
  exposeErrors?: boolean;
  /**
   * Serve `GET /metrics` to anyone, without a token (for a scraper on a trusted network);
   * otherwise it needs an API token of scope `read`. @default false
   */
  metricsPublic?: boolean;
  /** How long ended async invocation records are kept (ms), 1 minute to 365 days. @default 7 days */
  retainMs?: number;
  /** Most ended async invocation records kept, at least 1000; the oldest go first. @default 100000 */
  maxEndedInvocations?: number;
  /**
   * Keep a history record of every invocation (`history.db`, kept `retainMs`, at most
   * `maxRecords`) and meter it in the usage ledger; off, neither is kept. @default true
   */
  records?: boolean;
  /** Keep Prometheus metrics and serve `/metrics`; off, `/metrics` answers 404. @default true */
  metrics?: boolean;
  /** Most invocation history records kept, at least 1000; the earliest started go first. @default 1000000 */
  maxRecords?: number;
  /** Price of a million invocations, for the estimated bill of `GET /api/v1/usage` (no default: no estimate). */
  pricePerMillionRequests?: number;
  /** Price of a GB-second (docs/metering.md), for the estimated bill (no default: no estimate). */
  pricePerGbSecond?: number;
  /**
   * Hosts async callbacks may be sent to: `hooks.example.com`, `*.example.com` (its subdomains),
   * `10.0.0.5`, `[::1]`, each with an optional `:port` (see src/async/callback-hosts.ts). Empty:
   * any host. A callback is a request the platform makes from its own network to a URL the
   * caller chose, so with any host allowed a caller can reach internal services through it: set
   * the list on a platform others can invoke.
   * @default [] (any host)
   */
  callbackHosts?: string[];
  /** Most async invocations running at once across all functions, 1 to 10000. @default 256 */
  asyncWorkers?: number;
  /**
   * A function's async backlog (queued, waiting to retry, running) at which its triggers stop
   * taking events (they pause consumption) until it is below again, 1 to 1000000. @default 1000
   */
  triggerBacklog?: number;
  /**
   * A file holding the ingress key (at least 32 printable characters): senders presenting it in
   * `x-nimbus-ingress-key` (or as a bearer token) may `POST /events` and nothing else. Read at start.
   * @default none: `POST /events` takes API tokens of scope deploy only
   */
  ingressKeyFile?: string;
  /**
   * Where spans of invocations go, as OTLP/HTTP (JSON): a collector's base URL
   * (`http://127.0.0.1:4318`, to which `/v1/traces` is added) or its full traces URL (ending in
   * `/v1/traces`). Absent: no tracing at all, at no cost per invocation. (`nimbus up` also takes it
   * from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT.)
   */
  otlpEndpoint?: string;
  /** `service.name` of the platform's spans. @default nimbus */
  serviceName?: string;
  /**
   * Bytes of function output kept on disk per function, across its log segments (4 of a quarter
   * each); the oldest segment goes first. At least 4096. @default 32 MiB
   */
  logRetentionBytes?: number;
  /** Where function instances run. @default 'local' */
  backend?: 'local' | 'kubernetes';
  /** Settings of the Kubernetes backend (see docs/kubernetes.md). */
  kubernetes?: Partial<KubernetesSettings>;
  /** @default the system clock */
  clock?: Clock;
  /** @default JSON lines on stdout at NIMBUS_LOG_LEVEL, else info */
  logger?: Logger;
}

/** How the Kubernetes backend reaches its cluster and what its pods run. */
export interface KubernetesSettings {
  /** Namespace of the function pods. @default nimbus-fn */
  namespace: string;
  /** Kubeconfig file; absent: the in-cluster config (the pod's service account). */
  kubeconfig?: string;
  /** Images of the generic runtimes. @default ghcr.io/nimbus-faas/runtime-{node,python}:<version> */
  images: { node?: string; python?: string };
  /** Interface of the package server pods fetch their code from. @default 0.0.0.0 */
  packageHost?: string;
  /** Its port. @default 8081 */
  packagePort: number;
  /** The URL pods reach it at (the control plane's Service). @default http://<packageHost>:<packagePort> */
  packageUrl?: string;
  /** RuntimeClass of function pods (gVisor, Kata). @default none */
  runtimeClassName?: string;
}

/**
 * The options the platform runs with: every default filled in, validated, frozen. Parts read
 * these values and keep no defaults of their own.
 */
export interface CompiledServerOptions {
  readonly host: string;
  readonly port: number;
  /** Absolute. */
  readonly dataDir: string;
  readonly maxBodyBytes: number;
  readonly packageLimits: Readonly<PackageLimits>;
  readonly scaleIntervalMs: number;
  readonly maxQueue: number;
  readonly maxQueueWaitMs: number;
  readonly warmPoolSize: number;
  readonly sandbox: SandboxMode;
  readonly instanceLimits: Readonly<InstanceLimits>;
  readonly startTimeoutMs: number;
  readonly stopGraceMs: number;
  /** Resolved for `host` when not given. */
  readonly defaultAuth: InvokeAuth;
  readonly domain: string;
  readonly allowHostNetwork: boolean;
  readonly exposeErrors: boolean;
  readonly metricsPublic: boolean;
  readonly retainMs: number;
  readonly maxEndedInvocations: number;
  readonly records: boolean;
  readonly metrics: boolean;
  readonly maxRecords: number;
  /** Set when either price was given (the other then counts as 0); null: no estimated bill. */
  readonly prices: Readonly<{ perMillionRequests: number; perGbSecond: number }> | null;
  /**
   * The `callbackHosts` patterns compiled once: answers whether a callback may go to a URL's host
   * and port (every URL when no pattern was given). The scheme is not its concern.
   */
  readonly callbackHosts: CallbackHostCheck;
  readonly asyncWorkers: number;
  readonly triggerBacklog: number;
  /** Absolute, or undefined: no ingress key. */
  readonly ingressKeyFile: string | undefined;
  /** The full OTLP/HTTP traces URL, or undefined: tracing off. */
  readonly tracesEndpoint: string | undefined;
  readonly serviceName: string;
  readonly logRetentionBytes: number;
  /** Only the replacements given; the built-in adapters fill the rest where they are loaded. */
  readonly runtimes: Readonly<Partial<Record<RuntimeName, RuntimeAdapter>>>;
  readonly backend: 'local' | 'kubernetes';
  readonly kubernetes: Readonly<KubernetesSettings>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Compiles raw options once: validates every key (a {@link ServerOptionsError} names the key, the
 * value and what is allowed), fills what is absent from {@link SERVER_DEFAULTS}, and freezes the
 * result, so nothing downstream re-checks or re-defaults.
 */
export function compileServerOptions(raw: ServerOptions = {}): CompiledServerOptions {
  const given = validateServerOptions(raw);
  const d = SERVER_DEFAULTS;
  const host = given.host ?? d.host;
  return Object.freeze({
    host,
    port: given.port ?? d.port,
    dataDir: resolve(given.dataDir ?? d.dataDir),
    maxBodyBytes: given.maxBodyBytes ?? d.maxBodyBytes,
    packageLimits: Object.freeze(withDefaults<PackageLimits>(d.packageLimits, given.packageLimits)),
    scaleIntervalMs: given.scaleIntervalMs ?? d.scaleIntervalMs,
    maxQueue: given.maxQueue ?? d.maxQueue,
    maxQueueWaitMs: given.maxQueueWaitMs ?? d.maxQueueWaitMs,
    warmPoolSize: given.warmPoolSize ?? d.warmPoolSize,
    sandbox: given.sandbox ?? d.sandbox,
    instanceLimits: Object.freeze(withDefaults<InstanceLimits>(d.instanceLimits, given.instanceLimits)),
    startTimeoutMs: given.startTimeoutMs ?? d.startTimeoutMs,
    stopGraceMs: given.stopGraceMs ?? d.stopGraceMs,
    defaultAuth: given.defaultAuth ?? (isLoopbackHost(host) ? d.defaultAuth.loopback : d.defaultAuth.beyondLoopback),
    domain: given.domain ?? d.domain,
    allowHostNetwork: given.allowHostNetwork ?? d.allowHostNetwork,
    exposeErrors: given.exposeErrors ?? d.exposeErrors,
    metricsPublic: given.metricsPublic ?? d.metricsPublic,
    retainMs: given.retainMs ?? d.retainMs,
    maxEndedInvocations: given.maxEndedInvocations ?? d.maxEndedInvocations,
    records: given.records ?? d.records,
    metrics: given.metrics ?? d.metrics,
    maxRecords: given.maxRecords ?? d.maxRecords,
    prices:
      given.pricePerMillionRequests === undefined && given.pricePerGbSecond === undefined
        ? null
        : Object.freeze({ perMillionRequests: given.pricePerMillionRequests ?? 0, perGbSecond: given.pricePerGbSecond ?? 0 }),
    callbackHosts: compileCallbackHosts(given.callbackHosts ?? d.callbackHosts),
    asyncWorkers: given.asyncWorkers ?? d.asyncWorkers,
    triggerBacklog: given.triggerBacklog ?? d.triggerBacklog,
    ingressKeyFile: given.ingressKeyFile === undefined ? undefined : resolve(given.ingressKeyFile),
    tracesEndpoint: given.otlpEndpoint === undefined ? undefined : tracesUrl(given.otlpEndpoint),
    serviceName: given.serviceName ?? d.serviceName,
    logRetentionBytes: given.logRetentionBytes ?? d.logRetentionBytes,
    runtimes: Object.freeze(withoutUndefined(given.runtimes ?? {})),
    backend: given.backend ?? d.backend,
    kubernetes: Object.freeze({
      ...withoutUndefined(given.kubernetes ?? {}),
      namespace: given.kubernetes?.namespace ?? d.kubernetes.namespace,
      images: { ...d.kubernetes.images, ...withoutUndefined(given.kubernetes?.images ?? {}) },
      packagePort: given.kubernetes?.packagePort ?? d.kubernetes.packagePort,
    }),
    clock: given.clock ?? systemClock,
    logger: given.logger ?? pino({ level: process.env.NIMBUS_LOG_LEVEL ?? d.logLevel, base: undefined }),
  });
}

/** The OTLP traces URL of an endpoint: a base URL gets `/v1/traces`, as OTEL_EXPORTER_OTLP_ENDPOINT does. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

/** `defaults` with the values `given` sets; a key given as undefined keeps its default. */
function withDefaults<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  return { ...defaults, ...withoutUndefined(given ?? {}) };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
