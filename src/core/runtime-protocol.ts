/**
 * The runtime protocol: how the platform and a function instance (a runtime shim) talk.
 * Any language can implement it; see docs/runtime-protocol.md for the full description.
 *
 * - The shim is started with `NIMBUS_SOCKET` (a unix socket path) in its environment, and an
 *   extra pipe on fd 3 (the control channel). It serves HTTP/1.1 with keep-alive on the socket.
 * - When it listens it writes one JSON line `{"type":"ready"}` to fd 3. When fd 3 reaches EOF the
 *   platform is gone and the shim exits at once, so no instance outlives the platform.
 * - `POST /__nimbus/init` with an {@link InitRequest} loads the user's handler (specialisation).
 *   Answers 200 {@link InitResponse}, or 500 `{"error":{"code","message"}}`.
 * - Every other request is an invocation: method, path (the sub-path below `/fn/<name>`), query,
 *   headers and body are the client's; the platform adds the headers below.
 * - A handler that throws (or returns something unusable) is answered with status 500 and the
 *   header {@link SHIM_ERROR_HEADER}; the body is `{"error":{"message","type"}}`.
 * - stdout and stderr carry one JSON object per line, {@link LogLine}, tagged with the invocation
 *   id that was current when the user code wrote it.
 * - On SIGTERM the shim stops accepting connections, finishes in-flight requests, then exits 0.
 */

// The constants and the init body live in the node shim's own module, which may load nothing but
// node: builtins (it runs inside the sandbox); the platform uses the very same definitions.
export {
  CONTROL_FD,
  CPU_TIME_HEADER,
  DEADLINE_HEADER,
  HEALTH_PATH,
  INIT_PATH,
  INVOCATION_ID_HEADER,
  SHIM_ERROR_HEADER,
  WARM_UP_PATH,
} from '../runtimes/node/constants.cjs';
export type { InitRequest, PackageBundle, PackageSource } from '../runtimes/node/constants.cjs';

/** Answer to a successful init. */
export interface InitResponse {
  /** The handler form that was detected. */
  form: 'web' | 'lambda' | 'node' | 'openfaas';
  /** Milliseconds spent loading the user's code. */
  loadMs: number;
}

/** One captured output line, as written by a shim on stdout/stderr. */
export interface LogLine {
  /** Invocation id current when the line was written, or null outside any invocation. */
  id: string | null;
  /** Which stream. */
  s: 'out' | 'err';
  /** The line's text, without the newline. */
  m: string;
  /** Epoch milliseconds when the line was written. */
  t: number;
}

/** Control message written by a shim on fd 3. */
export type ControlMessage = { type: 'ready' };
