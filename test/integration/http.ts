/**
 * HTTP helpers for the secrets, bad-input and fuzz tests. Every management API call of those
 * tests goes through here, so adding a header to all of them (e.g. `authorization` once the API
 * needs a token) is a change to {@link apiHeaders} only.
 */
import { connect } from 'node:net';
import { request } from 'undici';
import { authHeaders, latestAuthHeaders } from './harness.js';

/** Headers sent with every management API call of these tests: the admin token of the platform started last. */
export function apiHeaders(): Record<string, string> {
  return latestAuthHeaders();
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

/** A management API call: any method, body and headers (on top of {@link apiHeaders}). */
export async function apiCall(
  url: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; json?: unknown } = {},
): Promise<Answer> {
  const headers = { ...authHeaders(url), ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers };
  const body = options.json !== undefined ? JSON.stringify(options.json) : (options.body ?? null);
  const res = await request(`${url}${path}`, { method: method as 'GET', headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: parseJson(text) };
}

/** `PUT /api/v1/secrets/{name}` with a raw value. */
export function setSecret(url: string, name: string, value: string | Buffer): Promise<Answer> {
  return apiCall(url, 'PUT', `/api/v1/secrets/${name}`, { body: value, headers: { 'content-type': 'application/octet-stream' } });
}

/**
 * Builds a raw HTTP/1.1 request (with {@link apiHeaders} and `connection: close`), for requests a
 * client library would refuse to send or would normalise (`..` segments, NUL, junk methods).
 * `path` and header values are sent byte for byte (latin1).
 */
export function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Buffer {
  const all: Record<string, string> = { host: 'nimbus.test', ...apiHeaders(), connection: 'close', ...headers };
  if (body !== undefined && all['content-length'] === undefined && all['transfer-encoding'] === undefined) all['content-length'] = String(Buffer.byteLength(body));
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body) : (body ?? Buffer.alloc(0))]);
}

/** An answer read off a raw connection; `status` is 0 when the server closed without answering. */
export interface RawAnswer extends Answer {
  raw: string;
}

/**
 * Sends `bytes` on a new connection and reads until the server closes it (or `timeoutMs`). With
 * `halfClose` our side of the connection is closed after sending, as a client that gives up would;
 * otherwise it stays open like any HTTP client's (Node aborts requests whose client half-closed).
 */
export function rawExchange(url: string, bytes: Buffer, options: { timeoutMs?: number; halfClose?: boolean } = {}): Promise<RawAnswer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${JSON.stringify(bytes.subarray(0, 80).toString('latin1'))}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // The server may close before reading everything we sent (e.g. huge headers): still an answer.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRaw(Buffer.concat(chunks)));
    });
    if (options.halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

function parseRaw(data: Buffer): RawAnswer {
  // Skip interim answers (`100 Continue` to `expect: 100-continue`).
  while (/^HTTP\/1\.1 1\d\d /.test(data.toString('latin1', 0, 13)) && data.includes('\r\n\r\n')) {
    data = data.subarray(data.indexOf('\r\n\r\n') + 4);
  }
  const raw = data.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  if (end === -1 || !status) return { status: 0, headers: {}, text: '', json: undefined, raw };
  const headers: Record<string, string | string[] | undefined> = {};
  for (const line of raw.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[key];
    headers[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  let body = data.subarray(Buffer.byteLength(raw.slice(0, end + 4), 'latin1'));
  const length = Number(headers['content-length']);
  if (Number.isInteger(length)) body = body.subarray(0, length);
  const text = body.toString('utf8');
  return { status: Number(status[1]), headers, text, json: parseJson(text), raw };
}

function parseJson(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
