/**
 * The one catalogue of platform error codes. Each code has a fixed HTTP status, whether the same
 * request may succeed when sent again later (`retryable`: capacity, timeouts, crashes, failures of
 * the function's code; never bad input or missing things), and a short description. Codes are
 * public API: never change the meaning of one, never reuse a retired one.
 *
 * Platform-made HTTP responses carry `x-nimbus-error: <CODE>` and a JSON body
 * `{"error":{"code","message"}}` so users can tell them from their function's own errors.
 */
export const ERRORS = {
  // Management API: requests and validation
  INVALID_REQUEST: { status: 400, retryable: false, description: 'The request body or parameters are invalid.' },
  INVALID_NAME: { status: 400, retryable: false, description: 'The function name is not a valid DNS label.' },
  INVALID_JSON: { status: 400, retryable: false, description: 'The request body is not valid JSON.' },
  NOT_FOUND: { status: 404, retryable: false, description: 'No such route.' },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, description: 'The route does not accept this method.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, description: 'The request content type is not accepted here.' },
  // Malformed HTTP, answered before any route sees the request
  BAD_REQUEST: { status: 400, retryable: false, description: 'The request is not well-formed HTTP.' },
  REQUEST_TIMEOUT: { status: 408, retryable: true, description: 'The request headers did not arrive in time.' },
  HEADERS_TOO_LARGE: { status: 431, retryable: false, description: 'The request line and headers exceed the size limit.' },
  EXPECTATION_FAILED: { status: 417, retryable: false, description: 'The request has an Expect header other than 100-continue.' },

  // Access control: API tokens and invoke keys
  UNAUTHENTICATED: { status: 401, retryable: false, description: 'The management API needs a bearer token and none was sent.' },
  INVALID_TOKEN: { status: 401, retryable: false, description: 'The bearer token is unknown or was revoked.' },
  FORBIDDEN: { status: 403, retryable: false, description: "The token's scope does not allow this request." },
  AUTH_RATE_LIMITED: { status: 429, retryable: true, description: 'Too many failed authentication attempts from this address; retry after Retry-After seconds.' },
  TOKEN_NOT_FOUND: { status: 404, retryable: false, description: 'No API token with this id exists.' },
  INVOKE_KEY_REQUIRED: { status: 401, retryable: false, description: 'The function requires an invoke key and none was sent.' },
  INVOKE_KEY_INVALID: { status: 403, retryable: false, description: 'The invoke key is not a valid key of this function (unknown, revoked, or of another function).' },
  INVOKE_KEY_NOT_FOUND: { status: 404, retryable: false, description: 'The function has no invoke key with this id.' },

  // Packages and builds
  INVALID_ARCHIVE: { status: 400, retryable: false, description: 'The upload is not a valid tar.gz or zip archive.' },
  UNSAFE_ARCHIVE_PATH: { status: 400, retryable: false, description: 'An archive entry has an absolute path, a `..` segment, or a control character in its name.' },
  UNSAFE_ARCHIVE_LINK: { status: 400, retryable: false, description: 'An archive entry is a link pointing outside the package, or a special file.' },
  ARCHIVE_TOO_LARGE: { status: 413, retryable: false, description: 'The archive exceeds the compressed or unpacked size limit.' },
  ARCHIVE_TOO_MANY_ENTRIES: { status: 413, retryable: false, description: 'The archive has more entries than allowed.' },
  EMPTY_PACKAGE: { status: 400, retryable: false, description: 'The package contains no files.' },
  PACKAGE_NOT_FOUND: { status: 400, retryable: false, description: 'The referenced package hash was never uploaded.' },
  RUNTIME_NOT_DETECTED: { status: 400, retryable: false, description: 'The runtime could not be detected; pass it explicitly.' },
  RUNTIME_MISMATCH: { status: 400, retryable: false, description: 'The runtime asked for has no source file in the package, which looks like the other runtime.' },
  HANDLER_NOT_FOUND: { status: 400, retryable: false, description: 'The handler entry file or export does not exist in the package.' },
  INVALID_MANIFEST: { status: 400, retryable: false, description: "The package's nimbus.json is not valid." },
  HANDLER_SYNTAX_ERROR: { status: 400, retryable: false, description: 'The code does not parse; the message names the file and line.' },
  UNSUPPORTED_ON_HOST: { status: 400, retryable: false, description: 'A setting needs a protection this host cannot enforce (see nimbus doctor).' },
  HOST_NETWORK_NOT_ALLOWED: { status: 403, retryable: false, description: 'Network "host" is refused: the platform listens beyond loopback and was not started with --allow-host-network.' },
  BUILD_FAILED: { status: 400, retryable: false, description: 'Bundling the function code failed.' },

  // Functions and invocation
  FUNCTION_NOT_FOUND: { status: 404, retryable: false, description: 'No function with this name is deployed.' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, description: 'The request body exceeds the limit.' },
  FUNCTION_TIMEOUT: { status: 504, retryable: true, description: 'The function did not answer within its timeout; the instance was recycled.' },
  FUNCTION_ERROR: { status: 502, retryable: true, description: 'The function handler threw or returned an invalid response.' },
  FUNCTION_OUT_OF_MEMORY: { status: 502, retryable: true, description: 'The function instance exceeded its memory limit and was stopped.' },
  FUNCTION_CRASHED: { status: 502, retryable: true, description: 'The function instance died while serving the request.' },
  FUNCTION_START_FAILED: { status: 502, retryable: true, description: 'A function instance could not be started or failed to load the handler.' },
  FUNCTION_OVERLOADED: { status: 503, retryable: true, description: 'No capacity became available in time; retry later.' },
  SHUTTING_DOWN: { status: 503, retryable: true, description: 'The platform is shutting down.' },

  // Async invocations
  INVALID_PREFER: { status: 400, retryable: false, description: 'The Prefer header asks for respond-async but is not well-formed (RFC 7240).' },
  INVALID_IDEMPOTENCY_KEY: { status: 400, retryable: false, description: 'The Idempotency-Key header is empty, too long, sent twice or not printable ASCII.' },
  INVALID_CALLBACK_URL: { status: 400, retryable: false, description: 'The callback URL is not an absolute http(s) URL without credentials.' },
  CALLBACK_HOST_NOT_ALLOWED: { status: 403, retryable: false, description: "The callback URL's host is not in the platform's --callback-hosts list." },
  INVOCATION_NOT_FOUND: { status: 404, retryable: false, description: 'No invocation with this id is stored (unknown, or removed by retention).' },
  INVOCATION_EXPIRED: { status: 410, retryable: false, description: 'The async invocation waited longer than its maximum event age and was not run again.' },

  // Secrets
  INVALID_SECRET_NAME: { status: 400, retryable: false, description: 'The secret name is not an upper-case environment variable name.' },
  SECRET_NOT_FOUND: { status: 404, retryable: false, description: 'No secret with this name exists.' },
  UNKNOWN_SECRET: { status: 400, retryable: false, description: 'A deploy names a secret that does not exist.' },
  SECRET_IN_USE: { status: 409, retryable: false, description: 'The secret is used by deployed functions and cannot be removed.' },
  SECRET_DECRYPT_FAILED: { status: 500, retryable: false, description: 'A stored secret cannot be decrypted with the key in the data directory.' },

  // Triggers
  INVALID_TRIGGER: { status: 400, retryable: false, description: "The trigger's name, type or settings are invalid (a bad cron expression or zone, settings that do not fit the type, a URL with credentials)." },
  TRIGGER_NOT_FOUND: { status: 404, retryable: false, description: 'No trigger with this name exists.' },
  TRIGGER_SOURCE_UNREACHABLE: {
    status: 400,
    retryable: false,
    description: "A trigger's source could not be consumed when it was created or changed (an unreachable broker, refused credentials, a missing JetStream stream or AMQP exchange).",
  },
  TRIGGER_EXISTS: { status: 409, retryable: false, description: 'A trigger with this name exists already (POST creates only; PUT replaces).' },
  INVALID_CLOUDEVENT: { status: 400, retryable: false, description: 'The request is not a valid CloudEvent (binary, structured or batched HTTP mode); nothing was delivered.' },

  INTERNAL: { status: 500, retryable: true, description: 'An unexpected platform error.' },
} as const satisfies Record<string, { status: number; retryable: boolean; description: string }>;

/** A stable platform error code from the catalogue. */
export type ErrorCode = keyof typeof ERRORS;

/** Whether an invocation that ended with `code` may be retried (async retries, clients' back-off). */
export function isRetryable(code: ErrorCode): boolean {
  return ERRORS[code].retryable;
}

/** Header naming the platform error code on platform-made responses. */
export const ERROR_HEADER = 'x-nimbus-error';

/**
 * An error the platform reports to users: a catalogue code, a message that says what to do,
 * and optional details (e.g. the offending field).
 */
export class NimbusError extends Error {
  /** Marker so errors are recognised across module copies without `instanceof`. */
  readonly isNimbusError = true;
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NimbusError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = options.details;
    this.headers = options.headers;
  }

  /** The JSON body of an error response. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/** True for a NimbusError, even one from another copy of this module. */
export function isNimbusError(err: unknown): err is NimbusError {
  return typeof err === 'object' && err !== null && (err as { isNimbusError?: unknown }).isNimbusError === true;
}

/** Wraps anything thrown into a NimbusError; unknown errors become INTERNAL without leaking internals. */
export function toNimbusError(err: unknown): NimbusError {
  if (isNimbusError(err)) return err;
  return new NimbusError('INTERNAL', 'Internal error; see the platform log for details.', { cause: err });
}
