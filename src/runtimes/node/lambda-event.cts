/**
 * The API Gateway HTTP API payload v2.0 event and the Lambda context object, so functions written
 * for AWS Lambda run unmodified.
 */
import type { IncomingMessage } from 'node:http';
import { DEADLINE_HEADER, type InitRequest } from './constants.cjs';
import { headerValue } from './http-util.cjs';

/** The v2.0 event (the fields Nimbus fills). */
export interface LambdaEvent {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

/** The Lambda context object. */
export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  /** Accepted for compatibility; Nimbus answers as soon as the handler's result is known. */
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  /** Legacy completion methods of the Lambda Node runtime. */
  done(err?: unknown, result?: unknown): void;
  succeed(result?: unknown): void;
  fail(err?: unknown): void;
}

/** Account id used in ARNs (Lambda code sometimes parses them; the shape matters, not the value). */
const ACCOUNT_ID = '000000000000';

const TEXT_TYPE = /^text\/|json|xml|x-www-form-urlencoded|javascript/i;

/** Whether a body of this content type is passed as UTF-8 text rather than base64. */
export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPE.test(contentType);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's request time format: `12/Mar/2020:19:03:58 +0000`. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Query parameters, decoded; repeated names comma-joined (v2.0 has no multi-value fields). */
function parseQuery(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const params: Record<string, string> = {};
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    params[name] = name in params ? `${params[name]},${value}` : value;
  }
  return params;
}

/**
 * Builds the v2.0 event. As API Gateway does, the `cookie` header moves to `cookies` (one entry
 * per cookie), header names are lowercased and repeated headers are comma-joined.
 */
export function buildEvent(req: IncomingMessage, body: Buffer, invocationId: string, now: number): LambdaEvent {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const rawQueryString = q === -1 ? '' : target.slice(q + 1);

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }

  const host = headers.host ?? 'localhost';
  const forwardedFor = headers['x-forwarded-for']?.split(',')[0]?.trim();
  const event: LambdaEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: 'nimbus',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        // A unix socket has no peer address; the gateway passes the client's in x-forwarded-for.
        sourceIp: forwardedFor || '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: invocationId,
      routeKey: '$default',
      stage: '$default',
      time: formatRequestTime(now),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(rawQueryString);
  if (query) event.queryStringParameters = query;
  if (body.length > 0) {
    const text = isTextContentType(headers['content-type']);
    event.body = body.toString(text ? 'utf8' : 'base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

/** Builds the context; `settle` receives the legacy done/succeed/fail completions. */
export function buildContext(
  init: InitRequest,
  req: IncomingMessage,
  invocationId: string,
  settle: (err: unknown, result?: unknown) => void,
): LambdaContext {
  const name = init.function;
  const header = Number(headerValue(req, DEADLINE_HEADER));
  // Without a deadline header (platform tests, manual runs) count the function's timeout from now.
  const deadline = Number.isFinite(header) && header > 0 ? header : Date.now() + init.timeoutMs;
  return {
    functionName: name,
    functionVersion: String(init.version),
    invokedFunctionArn: `arn:nimbus:lambda:local:${ACCOUNT_ID}:function:${name}`,
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: invocationId,
    logGroupName: `/nimbus/functions/${name}`,
    logStreamName: `${init.version}/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (err, result) => settle(err ?? null, result),
    succeed: (result) => settle(null, result),
    fail: (err) => settle(err ?? new Error('context.fail() called')),
  };
}
