import { NimbusError } from '../core/errors.js';

/** Errors whose message carries the function's own text (exception messages may hold secrets). */
export const FUNCTION_TEXT_CODES: ReadonlySet<string> = new Set(['FUNCTION_ERROR', 'FUNCTION_START_FAILED']);

/** The FUNCTION_ERROR of a handler failure the shim reported, with the exception's type and message. */
export function handlerError(reason: string, raw: Buffer, name: string): NimbusError {
  let detail = '';
  try {
    const body = JSON.parse(raw.toString('utf8')) as { error?: { type?: string; message?: string } };
    detail = [body.error?.type, body.error?.message].filter(Boolean).join(': ');
  } catch {
    detail = reason;
  }
  const what = reason === 'INVALID_RESPONSE' ? 'returned an invalid response' : 'threw';
  return new NimbusError('FUNCTION_ERROR', `The handler of "${name}" ${what}${detail ? `: ${detail.slice(0, 500)}` : ''}. See: nimbus logs ${name}`);
}

/**
 * `err` (one of {@link FUNCTION_TEXT_CODES}) as an untrusted caller sees it: the code, a generic
 * message naming where the reason is (the function's logs, under the invocation id), and the
 * invocation id in `details`. `path` is the request path `/fn/<name>…`.
 */
export function withoutFunctionText(err: NimbusError, path: string, invocationId: string): NimbusError {
  // The function exists (it failed), so its name in the path is a plain DNS label.
  const name = /^\/fn\/([a-z0-9-]+)/.exec(path)?.[1] ?? '<name>';
  const what = err.code === 'FUNCTION_ERROR' ? `The handler of "${name}" failed` : `No instance of "${name}" could start`;
  return new NimbusError(err.code, `${what}. The reason is in its logs (nimbus logs ${name}) under invocation ${invocationId}; callers presenting an API token of scope read (x-nimbus-token) see it here.`, {
    details: { invocationId },
    ...(err.headers ? { headers: err.headers } : {}),
    cause: err,
  });
}
