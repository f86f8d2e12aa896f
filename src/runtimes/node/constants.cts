/**
 * The runtime protocol's constants and init body: the one definition, used by the node shim and
 * re-exported to the platform by `src/core/runtime-protocol.ts` (see there for the protocol). It lives
 * here because the shim may load only `node:` builtins and its own files (it runs in the sandbox).
 */

/** Path of the specialisation request. */
export const INIT_PATH = '/__nimbus/init';
/** Path of the shim's health probe. */
export const HEALTH_PATH = '/__nimbus/health';
/**
 * Path of a warm-up invocation, answered only before init: the shim runs a built-in handler through
 * the same invocation path a function's requests take, so a pooled process has it compiled before
 * its first real invocation. Shims without one answer it like any unknown path.
 */
export const WARM_UP_PATH = '/__nimbus/warm-up';
/** Request header carrying the invocation id. */
export const INVOCATION_ID_HEADER = 'x-nimbus-invocation-id';
/** Request header carrying the invocation deadline in epoch milliseconds. */
export const DEADLINE_HEADER = 'x-nimbus-deadline';
/** Response header set when the handler failed. */
export const SHIM_ERROR_HEADER = 'x-nimbus-shim-error';
/**
 * Response header a shim may set: the CPU time (user + system, whole microseconds) its process
 * spent from the invocation's request arriving to its response head being sent. The platform
 * reads it into the invocation's record and strips it. See docs/metering.md for what it covers.
 */
export const CPU_TIME_HEADER = 'x-nimbus-cpu-us';
/** File descriptor of the control channel. */
export const CONTROL_FD = 3;

/** Body of `POST /__nimbus/init`. */
export interface InitRequest {
  function: string;
  version: number;
  /** Absolute path of the function's code; also the working directory for user code. */
  codeDir: string;
  /** File to load, relative to codeDir (node: the built bundle; python: the module file). */
  entry: string;
  /**
   * The user's file `entry` was built from, when they differ (node: the source of the bundle):
   * the file that messages name. Optional: absent, messages name `entry`.
   */
  source?: string;
  /**
   * Export to call. node: `default` (Web-standard fetch handler) or a named export called
   * Lambda-style; undefined means detect (default export, else `handler`). python: the function name.
   */
  export?: string;
  /** Environment variables for the user code. */
  env: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
  /**
   * Where to fetch the code from, when the instance shares no filesystem with the platform (a
   * Kubernetes pod): the shim downloads it with the one-time token, checks its sha256 and writes it
   * to a fresh folder under its TMPDIR, which then replaces `codeDir`.
   */
  package?: PackageSource;
  /**
   * Whether invocations report their CPU time in {@link CPU_TIME_HEADER}. Absent: they do. The
   * platform turns it off when it keeps no invocation records (nothing would read the figure).
   */
  meterCpu?: boolean;
}

/** A function's built code, served once by the platform (see {@link InitRequest.package}). */
export interface PackageSource {
  /** URL answering a {@link PackageBundle} as JSON. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; valid for one download. */
  token: string;
  /** Hex sha256 of the response body. */
  sha256: string;
}

/** The files of a built function, as the platform serves them to a pod. */
export interface PackageBundle {
  files: { path: string; mode: number; data: string /* base64 */ }[];
}

/** Values of the {@link SHIM_ERROR_HEADER} header. */
export type ShimErrorCode = 'HANDLER_ERROR' | 'INVALID_RESPONSE' | 'OUT_OF_MEMORY';
