import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import {
  type AsyncAccepted,
  CALLER_TOKEN_HEADER,
  type DeployRequest,
  type FunctionList,
  type FunctionView,
  INVOCATION_ID_HEADER,
  INVOCATION_STATUSES,
  type InvocationList,
  type InvocationListQuery,
  type UsageReport,
  type InvocationView,
  type LogLine,
  type LogList,
  type LogsQuery,
  PACKAGE_FILENAME_HEADER,
  type PackageInfo,
  type PlatformLimits,
  PREFER_HEADER,
  type PurgeResult,
  type RedriveRequest,
  type RedriveResult,
} from '../api/wire.js';
import { SERVER_DEFAULTS } from '../config/server-defaults.js';

/** Where the CLI looks for the platform when neither --url nor NIMBUS_URL is given: where `nimbus up` listens by default. */
export const DEFAULT_URL = `http://${SERVER_DEFAULTS.host}:${SERVER_DEFAULTS.port}`;

import { ApiError, ConnectionLostError, decodeError, explainNetworkError } from './client-errors.js';

export { ApiError, ConnectionLostError, decodeError, explainNetworkError, TlsError, UnreachableError } from './client-errors.js';

export type { PackageInfo } from '../api/wire.js';

/** A function as answered by the management API (the type is the API's own; no code is shared). */
export type FunctionInfo = FunctionView;

/** One log line as answered by the logs endpoint. */
export type LogEntry = LogLine;

/** The body of `PUT /api/v1/functions/{name}`. */
export type DeployBody = DeployRequest;

/** A response whose body has not been read yet. */
export interface RawResponse {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string>; dump(): Promise<void> };
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | Uint8Array | Readable | null;
  /** Send the bearer token (management API only; never forwarded to functions). @default true */
  auth?: boolean;
  /**
   * Send the token as `x-nimbus-token` (invocations): the gateway never forwards it to the
   * function, and shows a caller with a `read` token the full reason of a failure. @default false
   */
  callerToken?: boolean;
  /** Milliseconds to wait for response headers; 0 waits forever. @default 300000 */
  headersTimeout?: number;
  /** Milliseconds allowed between body chunks; 0 waits forever. @default 300000 */
  bodyTimeout?: number;
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** Base URL of the platform, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Bearer token sent as `authorization` on management API calls when set. */
  token?: string | undefined;
  userAgent?: string;
}

/** Validates a platform address and returns it without a trailing slash. Throws a readable Error. */
export function normalizeBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`Invalid platform URL ${JSON.stringify(url)}: expected e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`Invalid platform URL ${JSON.stringify(url)}: only http:// and https:// are supported`);
  }
  if (parsed.search || parsed.hash) {
    throw new Error(`Invalid platform URL ${JSON.stringify(url)}: remove the query or fragment`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/**
 * The one way the CLI talks to the platform: base URL, JSON in and out, error decoding and
 * authentication. Call close() when done so no connection keeps the process alive.
 */
export class NimbusClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly userAgent: string;
  private readonly agent: Agent;

  constructor(options: ClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.url);
    this.token = options.token || undefined;
    this.userAgent = options.userAgent ?? 'nimbus-cli';
    this.agent = new Agent({ keepAliveTimeout: 4_000 });
  }

  /** Absolute URL of a platform path such as `/api/v1/functions`. */
  url(path: string): string {
    return `${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`;
  }

  /** The invocation URL of a function (with an optional sub-path and query). */
  functionUrl(name: string, subPath = ''): string {
    return this.url(`/fn/${encodeURIComponent(name)}${subPath}`);
  }

  /** Sends a request and answers with the unread response, whatever its status. */
  async raw(path: string, options: RawRequest = {}): Promise<RawResponse> {
    const headers: Record<string, string | string[]> = { 'user-agent': this.userAgent, ...options.headers };
    if (this.token && options.auth !== false && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
      headers['authorization'] = `Bearer ${this.token}`;
    }
    if (this.token && options.callerToken) headers[CALLER_TOKEN_HEADER] = this.token;
    try {
      const res = await request(this.url(path), {
        dispatcher: this.agent,
        method: (options.method ?? 'GET') as 'GET',
        headers,
        body: options.body ?? null,
        headersTimeout: options.headersTimeout ?? 300_000,
        bodyTimeout: options.bodyTimeout ?? 300_000,
        signal: options.signal ?? null,
      });
      return {
        status: res.statusCode,
        statusText: res.statusText || STATUS_CODES[res.statusCode] || '',
        headers: res.headers,
        body: res.body,
      };
    } catch (err) {
      const explained = explainNetworkError(err, this.baseUrl);
      // Closed before any answer: what a TLS server does with a plain-HTTP request.
      if (explained instanceof ConnectionLostError && explained.reason === 'UND_ERR_SOCKET' && this.baseUrl.startsWith('http:')) {
        explained.message += ` If the platform is behind HTTPS, use ${this.baseUrl.replace(/^http:/, 'https:')}.`;
      }
      throw explained;
    }
  }

  /** A JSON API call: answers the decoded body, or throws ApiError for statuses >= 400. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    return this.decode<T>(res);
  }

  /** Decodes a JSON response, or throws ApiError for statuses >= 400. */
  async decode<T>(res: RawResponse): Promise<T> {
    if (res.status >= 400) throw await decodeError(res);
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw explainNetworkError(err, this.baseUrl);
    }
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, 'NOT_NIMBUS', `The server answered ${res.status} with something that is not JSON, so it is not a Nimbus API: check that --url (or NIMBUS_URL, or nimbus login) points at a Nimbus platform.`);
    }
  }

  // --- the management API -------------------------------------------------------------------

  /** `POST /api/v1/packages`: a tar.gz (filename unset) or a single file named `filename`. */
  async uploadPackage(bytes: Buffer | Readable, filename?: string): Promise<PackageInfo> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': filename === undefined ? 'application/gzip' : 'application/octet-stream',
    };
    if (filename !== undefined) headers[PACKAGE_FILENAME_HEADER] = filename;
    const res = await this.raw('/api/v1/packages', { method: 'POST', headers, body: bytes });
    return this.decode<PackageInfo>(res);
  }

  /**
   * `GET /api/v1/limits`: the platform's size limits; undefined from a platform that predates the
   * route (404), or answers something else, so the caller checks nothing rather than fail.
   */
  async limits(): Promise<PlatformLimits | undefined> {
    const res = await this.raw('/api/v1/limits', { headers: { accept: 'application/json' } });
    if (res.status === 404 || res.status === 405) {
      await res.body.dump();
      return undefined;
    }
    const limits = await this.decode<Partial<PlatformLimits> | undefined>(res);
    const pkg = limits?.package;
    return pkg && [pkg.maxBytes, pkg.maxUnpackedBytes, pkg.maxEntries].every((n) => typeof n === 'number') ? (limits as PlatformLimits) : undefined;
  }

  /** `PUT /api/v1/functions/{name}`: create the function or deploy a new version. */
  deployFunction(name: string, body: DeployBody): Promise<FunctionInfo> {
    return this.json<FunctionInfo>('PUT', `/api/v1/functions/${encodeURIComponent(name)}`, body);
  }

  async listFunctions(): Promise<FunctionInfo[]> {
    const res = await this.json<FunctionList>('GET', '/api/v1/functions');
    return res.functions;
  }

  getFunction(name: string): Promise<FunctionInfo> {
    return this.json<FunctionInfo>('GET', `/api/v1/functions/${encodeURIComponent(name)}`);
  }

  async removeFunction(name: string): Promise<void> {
    await this.json<unknown>('DELETE', `/api/v1/functions/${encodeURIComponent(name)}`);
  }

  /** `GET /api/v1/functions/{name}/logs` as a list. */
  async logs(name: string, query: Omit<LogsQuery, 'follow'>): Promise<LogEntry[]> {
    const res = await this.json<LogList>('GET', this.logsPath(name, { ...query, follow: false }));
    return res.logs;
  }

  /** `GET /api/v1/functions/{name}/logs?follow=true`: the open NDJSON stream. */
  async followLogs(name: string, query: Omit<LogsQuery, 'follow'>, signal?: AbortSignal): Promise<RawResponse> {
    const res = await this.raw(this.logsPath(name, { ...query, follow: true }), {
      headers: { accept: 'application/x-ndjson' },
      bodyTimeout: 0,
      ...(signal ? { signal } : {}),
    });
    if (res.status >= 400) throw await decodeError(res);
    return res;
  }

  private logsPath(name: string, query: LogsQuery): string {
    const params = new URLSearchParams();
    if (query.since !== undefined) params.set('since', query.since);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.invocation !== undefined) params.set('invocation', query.invocation);
    if (query.follow) params.set('follow', 'true');
    const qs = params.toString();
    return `/api/v1/functions/${encodeURIComponent(name)}/logs${qs ? `?${qs}` : ''}`;
  }

  // --- async invocations ----------------------------------------------------------------------

  /**
   * Sends an invocation of `name` (at `subPath`, with its query) with `Prefer: respond-async`, so
   * the platform queues it and answers 202 at once. Answers the accepted invocation; throws
   * ApiError when the platform refuses it (`FUNCTION_NOT_FOUND`, `PAYLOAD_TOO_LARGE`, a bad
   * callback URL…), and ApiError `ASYNC_UNSUPPORTED` when the platform ran it while waiting
   * instead (one that predates async invocations ignores the header).
   */
  async invokeAsync(name: string, subPath: string, request: Pick<RawRequest, 'method' | 'headers' | 'body'>): Promise<AsyncAccepted> {
    const res = await this.raw(`/fn/${encodeURIComponent(name)}${subPath}`, {
      ...request,
      headers: { ...request.headers, [PREFER_HEADER]: 'respond-async' },
      // The invocation is not run now: nothing here needs the caller's token.
      auth: false,
    });
    if (res.status >= 400) throw await decodeError(res);
    if (res.status !== 202) {
      await res.body.dump().catch(() => undefined);
      throw new ApiError(
        res.status,
        'ASYNC_UNSUPPORTED',
        `The platform answered ${res.status} instead of 202 Accepted: it ran ${name} while waiting, so it does not support async invocations. Upgrade it, or invoke without --async.`,
      );
    }
    const body = await this.decode<Partial<AsyncAccepted> | undefined>(res);
    const header = res.headers[INVOCATION_ID_HEADER];
    const id = typeof body?.id === 'string' ? body.id : typeof header === 'string' ? header : undefined;
    if (!id) throw new ApiError(res.status, 'NOT_NIMBUS', 'The platform accepted the invocation but answered no invocation id: check that --url points at a Nimbus platform.');
    // `queued`, or for a repeated idempotency key the first invocation's status now.
    const status = typeof body?.status === 'string' && (INVOCATION_STATUSES as readonly string[]).includes(body.status) ? body.status : 'queued';
    return { id, status };
  }

  /** `GET /api/v1/invocations/{id}`: an async invocation and how it went (ApiError `INVOCATION_NOT_FOUND` when unknown). */
  getInvocation(id: string, options: { logs?: boolean } = {}): Promise<InvocationView> {
    return this.json<InvocationView>('GET', `/api/v1/invocations/${encodeURIComponent(id)}${options.logs ? '?logs=true' : ''}`);
  }

  /** `GET /api/v1/invocations`: one page, newest first; pass `nextCursor` as `cursor` for the next. */
  listInvocations(query: InvocationListQuery = {}): Promise<InvocationList> {
    const params = new URLSearchParams();
    if (query.function !== undefined) params.set('function', query.function);
    if (query.status !== undefined) params.set('status', query.status);
    if (query.source !== undefined) params.set('source', query.source);
    if (query.since !== undefined) params.set('since', query.since);
    if (query.until !== undefined) params.set('until', query.until);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor !== undefined) params.set('cursor', query.cursor);
    const qs = params.toString();
    return this.json<InvocationList>('GET', `/api/v1/invocations${qs ? `?${qs}` : ''}`);
  }

  /** `GET /api/v1/usage`: the metering ledger over a span, grouped by function, hour or day. */
  usage(query: { since?: string; until?: string; by?: string; function?: string } = {}): Promise<UsageReport> {
    const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const qs = params.toString();
    return this.json<UsageReport>('GET', `/api/v1/usage${qs ? `?${qs}` : ''}`);
  }

  /** `POST /api/v1/functions/{name}/dlq/redrive`: queues dead letters again (by id, or all). */
  redriveDeadLetters(name: string, request: RedriveRequest): Promise<RedriveResult> {
    return this.json<RedriveResult>('POST', `/api/v1/functions/${encodeURIComponent(name)}/dlq/redrive`, request);
  }

  /** `DELETE /api/v1/functions/{name}/dlq`: removes every dead letter of the function. */
  purgeDeadLetters(name: string): Promise<PurgeResult> {
    return this.json<PurgeResult>('DELETE', `/api/v1/functions/${encodeURIComponent(name)}/dlq`);
  }

  /** Closes pooled connections (and aborts anything still open: a command is done with it). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }
}
