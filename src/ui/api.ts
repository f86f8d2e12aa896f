import type { ErrorBody } from '../api/wire.js';

/** An answer of the API that is not a success, with the platform's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The route does not exist on this platform (an older version, or a part not merged yet). */
  get notAvailable(): boolean {
    return this.status === 404 && this.code === 'NOT_FOUND';
  }

  /** The token is missing, unknown or revoked: the user must sign in again. */
  get unauthenticated(): boolean {
    return this.status === 401;
  }
}

/** Reads an error answer: the catalogue's `{error: {code, message}}`, or the status alone. */
export async function errorOf(res: Response): Promise<ApiError> {
  let body: Partial<ErrorBody> | undefined;
  try {
    body = (await res.json()) as Partial<ErrorBody>;
  } catch {
    body = undefined;
  }
  const code = body?.error?.code ?? res.headers.get('x-nimbus-error') ?? `HTTP_${res.status}`;
  const message = body?.error?.message ?? `${res.status} ${res.statusText}`;
  return new ApiError(res.status, code, message);
}

/** The management API, called with the signed-in token. Every data call of the dashboard goes here. */
export class Api {
  constructor(
    readonly token: string,
    private readonly onUnauthenticated: (error: ApiError) => void = () => undefined,
  ) {}

  /** Headers that carry the token. */
  authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.call<T>('GET', path, undefined, signal);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  /** A DELETE; the API answers 204 with no body. */
  async delete(path: string): Promise<void> {
    await this.call<undefined>('DELETE', path);
  }

  /** A raw GET with the token (for `/metrics` and log streams). */
  async fetch(path: string, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(path, { headers: this.authHeaders(), ...(signal ? { signal } : {}) });
    if (!res.ok) throw this.seen(await errorOf(res));
    return res;
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: { ...this.authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    if (!res.ok) throw this.seen(await errorOf(res));
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  private seen(error: ApiError): ApiError {
    if (error.unauthenticated) this.onUnauthenticated(error);
    return error;
  }
}

/** Builds `path?query` from the parameters that are set. */
export function withQuery(path: string, params: Record<string, string | number | undefined | null>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}
