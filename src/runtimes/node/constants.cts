/**
 * Protocol constants, mirrored from `src/runtimes/protocol.ts`. The shim may load only `node:`
 * builtins (it runs inside the sandbox, without the platform's code), so it cannot import them;
 * `test/runtimes/adapters.test.ts` checks that both copies agree.
 */

/** Path of the specialisation request. */
export const INIT_PATH = '/__nimbus/init';
/** Path of the shim's health probe. */
export const HEALTH_PATH = '/__nimbus/health';
/** Request header carrying the invocation id. */
export const INVOCATION_ID_HEADER = 'x-nimbus-invocation-id';
/** Request header carrying the invocation deadline in epoch milliseconds. */
export const DEADLINE_HEADER = 'x-nimbus-deadline';
/** Request header carrying the function name. */
export const FUNCTION_HEADER = 'x-nimbus-function';
/** Response header set when the handler failed. */
export const SHIM_ERROR_HEADER = 'x-nimbus-shim-error';
/** File descriptor of the control channel. */
export const CONTROL_FD = 3;

/** Body of `POST /__nimbus/init` (same shape as `InitRequest` in protocol.ts). */
export interface InitRequest {
  function: string;
  version: number;
  codeDir: string;
  entry: string;
  export?: string;
  env: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
}

/** Values of the {@link SHIM_ERROR_HEADER} header. */
export type ShimErrorCode = 'HANDLER_ERROR' | 'INVALID_RESPONSE';
