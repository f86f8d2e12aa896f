import type { FieldError } from './validation.js';
import type { Status } from './types.js';

/** An error the API server answers with a metav1.Status body. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function status(code: number, reason: string, message: string, details?: Status['details']): ApiError {
  return new ApiError({ apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason, code, ...(details ? { details } : {}) });
}

export const notFound = (name: string): ApiError => status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
export const alreadyExists = (name: string): ApiError => status(409, 'AlreadyExists', `pods "${name}" already exists`, { name, kind: 'pods' });
export const conflict = (name: string): ApiError =>
  status(409, 'Conflict', `Operation cannot be fulfilled on pods "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: 'pods' });
export const gone = (rv: string): ApiError => status(410, 'Expired', `too old resource version: ${rv}`);
export const badRequest = (message: string): ApiError => status(400, 'BadRequest', message);
export const unsupportedMediaType = (type: string): ApiError => status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${type})`);
export const tooManyRequests = (retryAfterSeconds: number): ApiError =>
  status(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', { retryAfterSeconds });
export const methodNotAllowed = (): ApiError => status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

export function invalid(name: string, errors: FieldError[]): ApiError {
  const summary = errors.map((e) => `${e.field}: ${e.message}`).join(', ');
  return status(422, 'Invalid', `Pod "${name}" is invalid: ${errors.length > 1 ? `[${summary}]` : summary}`, { name, kind: 'Pod', causes: errors.map((e) => ({ field: e.field, reason: e.reason, message: e.message })) });
}
