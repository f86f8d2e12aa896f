import { isUtf8 } from 'node:buffer';
import type { StoredRequest } from './stored-request.js';
import type { InvocationRecord } from '../store/invocation-types.js';

/** Why an invocation ended, as a destination record names it (Lambda's conditions). */
export type DestinationCondition = 'Success' | 'Failure' | 'RetriesExhausted' | 'EventAgeExceeded';

/** A body as a destination record carries it: text when it is UTF-8, else base64. */
export interface EncodedBody {
  body: string;
  bodyEncoding: 'utf8' | 'base64';
}

/**
 * The record an on-success or on-failure destination receives (as the JSON body of an async
 * invocation, `POST /`): which invocation, how it ended, what it was asked and what it answered.
 * Shaped after Lambda's destination records so existing handlers read it with few changes.
 */
export interface DestinationRecord {
  version: '1.0';
  /** ISO time of the ending. */
  timestamp: string;
  requestContext: {
    invocationId: string;
    functionName: string;
    functionVersion: number | null;
    condition: DestinationCondition;
    /** Attempts made. */
    approximateInvokeCount: number;
  };
  requestPayload: { method: string; path: string; headers: Record<string, string | string[]> } & EncodedBody;
  responseContext: { statusCode: number | null; error: { code: string; message: string } | null };
  /** What the function answered to the last attempt, when it answered. */
  responsePayload: ({ headers: Record<string, string | string[]>; truncated: boolean } & EncodedBody) | null;
}

/** The destination record of an ended invocation. */
export function destinationRecord(record: InvocationRecord, request: StoredRequest, condition: DestinationCondition): DestinationRecord {
  const response = record.response;
  return {
    version: '1.0',
    timestamp: new Date(record.finishedAt ?? record.createdAt).toISOString(),
    requestContext: {
      invocationId: record.id,
      functionName: record.function,
      functionVersion: record.version ?? null,
      condition,
      approximateInvokeCount: record.attempts,
    },
    requestPayload: { method: request.method, path: request.path, headers: request.headers, ...encodeBody(request.body) },
    responseContext: { statusCode: response && !record.error ? response.status : null, error: record.error ?? null },
    responsePayload: response && !record.error ? { headers: response.headers, truncated: response.truncated, ...encodeBody(response.body) } : null,
  };
}

/** A body as text when it is valid UTF-8, else base64 (so binary bodies survive JSON intact). */
export function encodeBody(body: Buffer): EncodedBody {
  return isUtf8(body) ? { body: body.toString('utf8'), bodyEncoding: 'utf8' } : { body: body.toString('base64'), bodyEncoding: 'base64' };
}
