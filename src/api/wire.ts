/**
 * The public HTTP API on the wire: the bodies `/api/v1` takes and answers, the platform's error
 * body, and the names, limits and headers a client needs to speak it. The server's routes answer
 * these types and the CLI (and later the dashboard) read them, so the two cannot drift apart
 * silently; the CLI takes nothing else from the platform but its start-up defaults
 * (test/api/wire.test.ts checks what it loads).
 *
 * A leaf: values the API defines are declared here; the few owned by a core rule (the error
 * catalogue's header, token scopes, secret names, the duration syntax) are re-exported from their
 * modules, which import nothing with side effects. Never import server parts from here: a client
 * loading this file must not load the platform.
 */

import type { Scope } from '../core/scope.js';
import type { ErrorCode } from '../core/errors.js';

export { SCOPES, type Scope } from '../core/scope.js';
export { formatDuration, parseDuration } from '../core/duration.js';
export { ERROR_HEADER, type ErrorCode } from '../core/errors.js';
export { SECRET_LIMITS, SECRET_NAME_PATTERN, secretNameProblem } from '../core/secret-rules.js';

// --- names and limits -------------------------------------------------------------------------

/** Runtimes Nimbus can run: node and python shims, and `exec`, any program (see EXEC_PROTOCOLS). */
export const RUNTIMES = ['node', 'python', 'exec'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/**
 * How an `exec` function's program serves invocations: `http`, a long-running program serving
 * HTTP on $PORT; `stdio`, one process per invocation (body on stdin, response on stdout).
 */
export const EXEC_PROTOCOLS = ['http', 'stdio'] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

/**
 * Network policy of a function's instances (invocations arrive over a unix socket with any of them):
 * - `outbound` (default): its own network namespace connected to the outside by user-mode
 *   networking; it cannot reach the host's loopback, addresses or ports, and its listeners are
 *   invisible to the host;
 * - `none`: only loopback, in its own network namespace;
 * - `host`: the host's network, loopback included (local databases, the platform's own API): an
 *   explicit choice, refused on a platform listening beyond loopback unless allowed.
 */
export const NETWORK_POLICIES = ['outbound', 'none', 'host'] as const;
export type NetworkPolicy = (typeof NETWORK_POLICIES)[number];

/**
 * Who may invoke a function: `public` (anyone who can reach the gateway) or `key` (callers that
 * send one of the function's invoke keys in the `x-nimbus-key` header).
 */
export const INVOKE_AUTH_MODES = ['public', 'key'] as const;
export type InvokeAuth = (typeof INVOKE_AUTH_MODES)[number];

/** DNS-label names: lowercase letters, digits and `-`, starting with a letter, at most 63 chars. */
export const FUNCTION_NAME_PATTERN = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Ranges of the deploy settings, so absurd values are refused with a message naming the range, and
 * the defaults a function gets when it sets none. Times in milliseconds (the API takes seconds).
 */
export const LIMITS = {
  timeoutMs: { min: 100, max: 3_600_000, default: 30_000 },
  memoryMb: { min: 64, max: 16_384, default: 256 },
  idleTimeoutMs: { min: 1_000, max: 86_400_000, default: 300_000 },
  concurrency: { min: 1, max: 1_000 },
  maxInstances: { min: 1, max: 1_000, default: 10 },
  minInstances: { min: 0, max: 1_000, default: 0 },
  /** Instance limits: a function's own, else the platform's (`nimbus up --max-processes` ...). */
  maxProcesses: { min: 8, max: 4_096, default: 128 },
  maxOpenFiles: { min: 64, max: 65_536, default: 1_024 },
  tmpMb: { min: 1, max: 4_096, default: 64 },
  envBytes: 64 * 1024,
  /**
   * Async invocations of one function running at once; default: half its capacity (see asyncPolicyOf
   * in src/core/async-policy.ts). 0 holds them: they are accepted and kept queued until it is raised.
   */
  asyncConcurrency: { min: 0, max: 10_000 },
  /** Retries of a failed async invocation after its first attempt. */
  maxRetries: { min: 0, max: 20, default: 2 },
  /** Delay before the first retry; later ones double (with jitter), capped at {@link RETRY_DELAY_CAP_MS}. */
  retryDelayMs: { min: 100, max: 300_000, default: 1_000 },
  /** Age after which a queued async invocation is given up (dead) instead of run. */
  maxEventAgeMs: { min: 1_000, max: 7 * 86_400_000, default: 6 * 3_600_000 },
} as const;

/** The longest delay between two attempts of an async invocation (5 minutes). */
export const RETRY_DELAY_CAP_MS = 300_000;

// --- headers ----------------------------------------------------------------------------------

/** The request header that carries an invoke key. */
export const INVOKE_KEY_HEADER = 'x-nimbus-key';

/**
 * The request header in which an invocation's caller may present an API token, to get the full
 * reason of a failure in the response. A header of its own rather than `Authorization`, which
 * belongs to the function: client `x-nimbus-*` headers are never forwarded, so the token never
 * reaches the function's code.
 */
export const CALLER_TOKEN_HEADER = 'x-nimbus-token';

/**
 * A request to `/fn/<name>` with `Prefer: respond-async` (RFC 7240) is queued and answered 202
 * instead of run while the caller waits; so is any request to `/async/<name>`.
 */
export const PREFER_HEADER = 'prefer';
/** The path prefix of async invocations, for callers that cannot set headers (webhook senders). */
export const ASYNC_PATH_PREFIX = '/async/';
/**
 * The id of an invocation: answered with every invocation (sync or async), sent to the function,
 * and on callbacks.
 */
export const INVOCATION_ID_HEADER = 'x-nimbus-invocation-id';
/** An async request's deduplication key: the same key for the same function within 24 hours stores nothing new. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** How long an idempotency key deduplicates (24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 86_400_000;
/** Longest accepted idempotency key, in characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;
/** Where to POST the outcome of an async invocation when it ends (an http(s) URL). */
export const CALLBACK_URL_HEADER = 'x-nimbus-callback-url';
/** OpenFaaS's name of {@link CALLBACK_URL_HEADER}, accepted too. */
export const OPENFAAS_CALLBACK_URL_HEADER = 'x-callback-url';
/** On a callback: the function's HTTP status (or the platform error's) of the ended invocation. */
export const CALLBACK_STATUS_HEADER = 'x-nimbus-status';
/** Sent to the function: which attempt of the invocation this is (1, 2, ...), so it can deduplicate. */
export const ATTEMPT_HEADER = 'x-nimbus-attempt';

/** `POST /api/v1/packages`: the name of a single uploaded file (e.g. `handler.py`). */
export const PACKAGE_FILENAME_HEADER = 'x-nimbus-filename';

// --- errors -----------------------------------------------------------------------------------

/**
 * The body of every error the platform makes (with `x-nimbus-error: <code>`), so callers can tell
 * them from their function's own. Clients should expect codes newer than the ones they know.
 */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** E.g. `field`, the offending request field. */
    details?: Record<string, unknown>;
  };
}

// --- functions --------------------------------------------------------------------------------

/**
 * The body of `PUT /api/v1/functions/{name}`: which uploaded package to run, and how. Settings
 * left out keep the previous version's value (defaults for a new function); runtime and handler
 * left out are detected from the code. Unknown fields are refused.
 */
export interface DeployRequest {
  /** The sha256 answered by `POST /api/v1/packages`. */
  package: string;
  runtime?: RuntimeName;
  /** node: entry file or file.export; python: module.function. */
  handler?: string;
  /** exec: the command line that runs the program. */
  command?: string;
  /** exec: how the program serves invocations. @default http */
  protocol?: ExecProtocol;
  env?: Record<string, string>;
  /** Names of secrets exposed as environment variables of the same name; replaces the list. */
  secrets?: string[];
  /** Seconds, or a duration such as `"30s"`. @default 30 */
  timeout?: number | string;
  /** MB. @default 256 */
  memory?: number;
  /** Seconds, or a duration such as `"5m"`. @default 300 */
  idleTimeout?: number | string;
  /** Requests one instance serves at once. @default node 64, python 8, exec 16 */
  concurrency?: number;
  /** @default 10 */
  maxInstances?: number;
  /** @default 0 */
  minInstances?: number;
  /** @default outbound (host where the sandbox cannot isolate and the platform is loopback-only) */
  network?: NetworkPolicy;
  maxProcesses?: number;
  maxOpenFiles?: number;
  /** MB */
  tmpSize?: number;
  /** @default the platform's (public on a loopback platform, else key) */
  auth?: InvokeAuth;
  /**
   * Async invocations of the function running at once. Never set: half the function's capacity,
   * `max(1, floor(concurrency * maxInstances / 2))`, following changes of either, so sync
   * traffic keeps room. 0 holds them (accepted and kept queued, none run) until a deploy raises it.
   */
  asyncConcurrency?: number;
  /** Retries of a failed async invocation after its first attempt. @default 2 */
  maxRetries?: number;
  /** Seconds, or a duration such as `"1s"`: delay before the first retry; later ones double. @default 1 */
  retryDelay?: number | string;
  /** Seconds, or a duration such as `"6h"`: a queued async invocation older than this is given up (dead). @default 6h */
  maxEventAge?: number | string;
  /**
   * A deployed function (not this one) that gets the outcome of each async invocation that
   * succeeded; null removes it. Left out: the previous version's.
   */
  onSuccess?: string | null;
  /** Like {@link onSuccess}, for async invocations that failed or went dead. */
  onFailure?: string | null;
}

/** A function as the API shows it: times in seconds, memory in MB. */
export interface FunctionView {
  name: string;
  runtime: RuntimeName;
  handler: string;
  /** exec functions: how the program serves invocations. */
  protocol?: ExecProtocol;
  version: number;
  package: string;
  env: Record<string, string>;
  /** Names of the secrets the function gets as environment variables (never their values). */
  secrets: string[];
  timeout: number;
  memory: number;
  idleTimeout: number;
  concurrency: number;
  maxInstances: number;
  minInstances: number;
  network: NetworkPolicy;
  /** Instance limits in effect (the function's own, else the platform's). */
  maxProcesses: number;
  maxOpenFiles: number;
  /** MB */
  tmpSize: number;
  /** Who may invoke it, in effect: its own setting, else the platform's default. */
  auth: InvokeAuth;
  /** Async invocations running at once, in effect (its own setting, else half its capacity); 0: held. */
  asyncConcurrency: number;
  /** Retries of a failed async invocation after its first attempt. */
  maxRetries: number;
  /** Seconds before the first retry (later ones double, with jitter, up to 5 minutes). */
  retryDelay: number;
  /** Seconds a queued async invocation may wait before it is given up (dead). */
  maxEventAge: number;
  /** The function that gets the outcome of each succeeded async invocation, when set. */
  onSuccess?: string;
  /** The function that gets the outcome of each failed or dead async invocation, when set. */
  onFailure?: string;
  url: string;
  /** The function's own host, where it sees its paths from the root (e.g. http://hello.localhost:8080/). */
  hostUrl?: string;
  /** Running instances (starting, ready or draining). */
  instances: number;
  /** Instances ready to serve. */
  readyInstances: number;
  /** Instances the autoscaler currently wants. */
  desired: number;
  /** The last failed instance start, until an instance starts again (a deploy's check counts). */
  lastStartError?: { message: string; at: string };
  createdAt: string;
  updatedAt: string;
}

/** `GET /api/v1/functions`. */
export interface FunctionList {
  functions: FunctionView[];
}

/** The answer to `POST /api/v1/packages`: the stored package, by content hash. */
/**
 * `GET /api/v1/limits` (scope read): the limits of this platform that a client can check before
 * it sends something, so it can say what is too large instead of sending it for a 413. Sizes in
 * bytes. Platforms older than this route answer 404: check nothing then.
 */
export interface PlatformLimits {
  /** Upload limits of `POST /api/v1/packages`. */
  package: {
    /** Largest upload (the archive as sent, or a single file). */
    maxBytes: number;
    /** Largest total of the unpacked files. */
    maxUnpackedBytes: number;
    /** Most archive entries (files, folders and links). */
    maxEntries: number;
  };
  /** Largest invocation request body (`nimbus up --max-body`). */
  invokeBodyBytes: number;
  /** Largest JSON body the management API reads (a deploy's settings, a token request). */
  apiBodyBytes: number;
}

export interface PackageInfo {
  sha256: string;
  /** Upload size in bytes. */
  size: number;
  format: 'tar.gz' | 'zip' | 'file';
  /** Number of regular files. */
  files: number;
  unpackedBytes: number;
}

// --- logs -------------------------------------------------------------------------------------

/** The query of `GET /api/v1/functions/{name}/logs`. */
export interface LogsQuery {
  /** A duration back from now (`10m`) or an ISO timestamp. */
  since?: string;
  /** At most this many past lines, 1 to 100000 (the newest). */
  limit?: number;
  /** Only the lines of this invocation (its `x-nimbus-invocation-id`). */
  invocation?: string;
  /** Keep the response open as NDJSON, one {@link LogLine} per line. */
  follow?: boolean;
}

/** One line a function wrote, as the logs endpoint answers it. */
export interface LogLine {
  /** ISO timestamp. */
  time: string;
  function: string;
  /** The invocation that wrote the line, or null outside any invocation (e.g. module load). */
  invocationId: string | null;
  stream: 'stdout' | 'stderr';
  message: string;
}

/** `GET /api/v1/functions/{name}/logs` without follow. */
export interface LogList {
  logs: LogLine[];
}

// --- secrets ----------------------------------------------------------------------------------

/** A secret as the API shows it: metadata and who uses it, never the value. */
export interface SecretView {
  name: string;
  /** Starts at 1; grows by one each time the value is replaced. */
  version: number;
  /** Functions whose current version uses the secret, ordered by name. */
  functions: string[];
  createdAt: string;
  updatedAt: string;
}

/** `GET /api/v1/secrets`. */
export interface SecretList {
  secrets: SecretView[];
}

/** `PUT /api/v1/secrets/{name}` with a JSON content type (any other type: the raw value). */
export interface SecretValueRequest {
  value: string;
}

// --- access: API tokens and invoke keys -------------------------------------------------------

/** `GET /api/v1/whoami`: the token the request was made with. */
export interface WhoAmI {
  id: string;
  name: string;
  scope: Scope;
}

/** The body of `POST /api/v1/tokens`. */
export interface CreateTokenRequest {
  name: string;
  scope: Scope;
}

/** A token as the API lists it: never its value nor its hash. */
export interface TokenView {
  id: string;
  name: string;
  scope: Scope;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
}

/** The answer to creating a token: the only time its value is shown. */
export interface CreatedToken extends TokenView {
  token: string;
}

/** `GET /api/v1/tokens`. */
export interface TokenList {
  tokens: TokenView[];
}

/** The body of `POST /api/v1/functions/{name}/keys` (may be empty). */
export interface CreateInvokeKeyRequest {
  /** @default default */
  name?: string;
}

/** An invoke key as the API lists it: never the key nor its hash. */
export interface InvokeKeyView {
  id: string;
  function: string;
  name: string;
  createdAt: string;
  revoked: boolean;
  revokedAt: string | null;
}

/** The answer to creating a key: the only time the key is shown. */
export interface CreatedInvokeKey extends InvokeKeyView {
  key: string;
}

/** `GET /api/v1/functions/{name}/keys`. */
export interface InvokeKeyList {
  keys: InvokeKeyView[];
}

// --- async invocations --------------------------------------------------------------------------

/**
 * Where an async invocation is: `queued` (waiting for its first attempt), `running`, `retrying`
 * (an attempt failed, the next is due at `nextAttemptAt`), and the ends: `succeeded` (the function
 * answered 2xx or 3xx), `failed` (it answered 4xx other than 429, which is not retried), `dead`
 * (the last attempt failed, or it waited past its maximum event age: a dead letter, redrivable).
 */
export const INVOCATION_STATUSES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'dead'] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** The answer to an accepted async invocation (202, with `Location` and `x-nimbus-invocation-id`). */
export interface AsyncAccepted {
  id: string;
  /** `queued`; for a repeated idempotency key, the status of the first invocation now. */
  status: InvocationStatus;
}

/** A stored response: what the function answered (body kept up to 1 MiB). */
export interface InvocationResponseView {
  status: number;
  headers: Record<string, string | string[]>;
  /** The body: UTF-8 text, or base64 when it is not valid UTF-8 (see `bodyEncoding`). */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** The function answered more than was kept. */
  truncated: boolean;
}

/**
 * What an invocation used (docs/metering.md). For an async invocation, the figures of its attempts
 * added up, and the timings and cold flag of the last one.
 */
export interface InvocationMetering {
  /** From the platform taking it to its end, queue and start included (ms). */
  durationMs: number;
  /** Start and handler time, rounded up to the millisecond. */
  billedMs: number;
  memoryMb: number;
  /** memoryMb / 1024 × billedMs / 1000. */
  gbSeconds: number;
  /** CPU time the runtime reported (ms); null when it reported none. */
  cpuMs: number | null;
  bytesIn: number;
  bytesOut: number;
  coldStart: boolean;
  /** Phases, as in Server-Timing (ms). */
  queueMs: number;
  startMs: number;
  handlerMs: number;
}

/**
 * `GET /api/v1/invocations/{id}`: an invocation and how it went, whatever its source. Async ones
 * go through the whole lifecycle (queued … dead); sync and trigger ones are `succeeded` (the
 * function answered below 400) or `failed`, with one attempt. Times are ISO strings.
 */
export interface InvocationView {
  id: string;
  function: string;
  /** `async` for invocations queued through the async API. */
  source: 'http' | 'async' | 'trigger';
  /** The function version of the last attempt; null before the first. */
  version: number | null;
  status: InvocationStatus;
  /** Attempts started so far. */
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  nextAttemptAt: string | null;
  /** The platform error of the last attempt, when it ended with one. */
  error: { code: ErrorCode; message: string } | null;
  /** The function's response to the last attempt, when it answered (async invocations only keep one). */
  response: InvocationResponseView | null;
  /** The HTTP status the function answered the last attempt with; null when it did not answer. */
  httpStatus: number | null;
  /** The request's method and path (with query), as the function sees them. */
  request: { method: string; path: string };
  /** The trigger whose event this is (its function received it as a CloudEvent); null for other invocations. */
  trigger: string | null;
  /** Null while no attempt has run (a queued async invocation), or when records are off. */
  metering: InvocationMetering | null;
  /** With `?logs=true` (`nimbus invocations get <id> --logs`): the lines the invocation wrote, oldest first. */
  logs?: LogLine[];
}

/** The query of `GET /api/v1/invocations`. */
export interface InvocationListQuery {
  function?: string;
  status?: InvocationStatus;
  source?: 'http' | 'async' | 'trigger';
  /** ISO timestamp, or a duration back from now (`30m`, `7d`): invocations started (async: created) at or after it. */
  since?: string;
  /** The same forms: at or before it. */
  until?: string;
  /** 1 to 1000. @default 100 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** `GET /api/v1/invocations`: newest first. */
export interface InvocationList {
  invocations: InvocationView[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

// --- usage and stats ----------------------------------------------------------------------------

/** The figures of one row of `GET /api/v1/usage`, and of its total. */
export interface UsageFigures {
  invocations: number;
  /** Invocations that failed: a platform error, the caller leaving, or a status of 400 or more. */
  errors: number;
  gbSeconds: number;
  cpuSeconds: number;
  billedMs: number;
  bytesIn: number;
  bytesOut: number;
  /** invocations / 1e6 × perMillionRequests + gbSeconds × perGbSecond; null without prices. */
  estimatedCost: number | null;
}

export const USAGE_GROUPINGS = ['function', 'hour', 'day'] as const;

/** `GET /api/v1/usage`: the ledger's hourly roll-ups of [since, until), grouped. */
export interface UsageReport {
  since: string;
  until: string;
  by: (typeof USAGE_GROUPINGS)[number];
  prices: { perMillionRequests: number; perGbSecond: number } | null;
  /** Ascending by key: a function name, or the ISO start of an hour or (UTC) day. */
  rows: Array<UsageFigures & { key: string }>;
  total: UsageFigures;
}

/** One function in `GET /api/v1/stats`. */
export interface FunctionStatsSummary {
  name: string;
  invocations: number;
  errors: number;
  ratePerSecond: number;
  /** Of the whole duration (queue, start, handler), from log buckets: within about ±12%. */
  p50Ms: number | null;
  p99Ms: number | null;
  coldStarts: number;
}

/** `GET /api/v1/stats?window=5m`. */
export interface StatsReport {
  window: string;
  functions: FunctionStatsSummary[];
}

/** One minute of `GET /api/v1/functions/{name}/stats`. */
export interface StatsBucket {
  start: string;
  invocations: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  coldStarts: number;
}

/** `GET /api/v1/functions/{name}/stats?minutes=60`: oldest first, one bucket per minute. */
export interface FunctionStatsReport {
  function: string;
  bucketSeconds: 60;
  buckets: StatsBucket[];
}

/** The body of `POST /api/v1/functions/{name}/dlq/redrive`: some dead letters by id, or all. */
export interface RedriveRequest {
  ids?: string[];
  all?: boolean;
}

/** The answer to a redrive: the invocations queued again (same ids, fresh retry budget). */
export interface RedriveResult {
  redriven: string[];
}

/** The answer to `DELETE /api/v1/functions/{name}/dlq`. */
export interface PurgeResult {
  purged: number;
}

// --- triggers -----------------------------------------------------------------------------------

/** What a trigger is doing: its source runs (`active`), was paused, or cannot consume (`failing`). */
export const TRIGGER_STATUSES = ['starting', 'active', 'paused', 'failing'] as const;
export type TriggerStatusName = (typeof TRIGGER_STATUSES)[number];

/**
 * The body of `PUT /api/v1/triggers/{name}` and `POST /api/v1/triggers` (which also takes `name`).
 * `settings` depend on `type` (docs/triggers.md), e.g. cron: `{ schedule, timezone?, data?, catchUp? }`.
 */
export interface TriggerRequest {
  name?: string;
  function: string;
  type: string;
  settings?: Record<string, unknown>;
  /** @default 'active' (on PUT of an existing trigger: unchanged) */
  state?: 'active' | 'paused';
}

/** The body of `PATCH /api/v1/triggers/{name}`: the fields given replace the stored ones (settings as a whole). */
export type TriggerPatchRequest = Partial<Omit<TriggerRequest, 'name'>>;

/** A trigger as the API shows it. Times are ISO strings. */
export interface TriggerView {
  name: string;
  function: string;
  type: string;
  settings: Record<string, unknown>;
  /** What the user asked for. */
  state: 'active' | 'paused';
  /** What it does now: `paused` when paused; else `failing` when its source said so; else `active`. */
  status: TriggerStatusName;
  /** Why it is failing; null otherwise. */
  error: string | null;
  /** Since when it has had this status. */
  since: string;
  createdAt: string;
  updatedAt: string;
}

/** `GET /api/v1/triggers` (ordered by name; `?function=` filters). */
export interface TriggerList {
  triggers: TriggerView[];
}
