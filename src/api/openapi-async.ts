import { FUNCTION_NAME_PATTERN } from '../core/spec.js';
import { INVOCATION_STATUSES } from './wire.js';

/** The OpenAPI parts of async invocations: the async invoke routes, status, dead letters. */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source } };
const timeOrNull = { type: ['string', 'null'], format: 'date-time' };
const asyncHeaders = [
  { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 256 }, description: 'the same key for the same function within 24 hours stores nothing new and answers the first id' },
  { name: 'x-nimbus-callback-url', in: 'header', schema: { type: 'string', format: 'uri' }, description: 'where to POST the outcome when the invocation ends (X-Callback-Url is accepted too)' },
];
const accepted = {
  description: 'Stored durably; runs as soon as capacity allows. Location and x-nimbus-invocation-id name the invocation.',
  headers: { Location: { schema: { type: 'string' } }, 'x-nimbus-invocation-id': { schema: { type: 'string' } } },
  content: json(ref('AsyncAccepted')),
};
const acceptErrors = {
  400: errorResponse('INVALID_PREFER, INVALID_IDEMPOTENCY_KEY, INVALID_CALLBACK_URL'),
  401: errorResponse('INVOKE_KEY_REQUIRED'),
  403: errorResponse('INVOKE_KEY_INVALID, CALLBACK_HOST_NOT_ALLOWED'),
  404: errorResponse('FUNCTION_NOT_FOUND'),
  413: errorResponse('PAYLOAD_TOO_LARGE'),
};

/** Paths of `/async/{name}`, `/api/v1/invocations` and `/api/v1/functions/{name}/dlq`. */
export function asyncPaths(): Record<string, object> {
  return {
    '/async/{name}/{path}': {
      parameters: [nameParam, { name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'sub-path seen by the function (may be empty)' }, ...asyncHeaders],
      summary: 'Invoke a function asynchronously with any method (also: /fn/{name} with Prefer: respond-async)',
      post: { responses: { 202: accepted, ...acceptErrors } },
    },
    '/api/v1/invocations': {
      get: {
        summary: 'List invocations (sync, async, triggered), newest first; each async invocation once',
        parameters: [
          { name: 'function', in: 'query', schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source } },
          { name: 'status', in: 'query', schema: { type: 'string', enum: INVOCATION_STATUSES } },
          { name: 'source', in: 'query', schema: { type: 'string', enum: ['http', 'async', 'trigger'] } },
          { name: 'since', in: 'query', schema: { type: 'string' }, description: 'started (async: created) at or after: an ISO timestamp or a duration back from now (30m, 7d)' },
          { name: 'until', in: 'query', schema: { type: 'string' }, description: 'at or before: the same forms' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
        ],
        responses: { 200: { description: 'A page of invocations', content: json(ref('InvocationList')) }, 400: errorResponse('INVALID_REQUEST, INVALID_NAME') },
      },
    },
    '/api/v1/invocations/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        summary: 'An invocation: status, attempts, metering, last error (async: and response)',
        parameters: [{ name: 'logs', in: 'query', schema: { type: 'boolean' }, description: 'also answer the lines the invocation wrote, in `logs`' }],
        responses: { 200: { description: 'The invocation', content: json(ref('Invocation')) }, 400: errorResponse('INVALID_REQUEST'), 404: errorResponse('INVOCATION_NOT_FOUND') },
      },
    },
    '/api/v1/functions/{name}/dlq': {
      parameters: [nameParam],
      delete: { summary: "Purge a function's dead letters", responses: { 200: { description: 'How many were removed', content: json({ type: 'object', required: ['purged'], properties: { purged: { type: 'integer' } } }) }, 404: errorResponse('FUNCTION_NOT_FOUND') } },
    },
    '/api/v1/functions/{name}/dlq/redrive': {
      parameters: [nameParam],
      post: {
        summary: 'Queue dead letters again, with their ids and a fresh retry budget',
        requestBody: {
          required: true,
          content: json({
            oneOf: [
              { type: 'object', required: ['ids'], additionalProperties: false, properties: { ids: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000 } } },
              { type: 'object', required: ['all'], additionalProperties: false, properties: { all: { const: true } } },
            ],
          }),
        },
        responses: {
          200: { description: 'The ids queued again (unknown or not dead ids are left out)', content: json({ type: 'object', required: ['redriven'], properties: { redriven: { type: 'array', items: { type: 'string' } } } }) },
          400: errorResponse('INVALID_REQUEST, INVALID_JSON'),
          404: errorResponse('FUNCTION_NOT_FOUND'),
        },
      },
    },
  };
}

/** Schemas of the async routes. */
export function asyncSchemas(): Record<string, object> {
  return {
    AsyncAccepted: {
      type: 'object',
      required: ['id', 'status'],
      properties: { id: { type: 'string' }, status: { type: 'string', enum: INVOCATION_STATUSES, description: 'queued; for a repeated idempotency key, the first invocation’s status now' } },
    },
    Invocation: {
      type: 'object',
      required: ['id', 'function', 'version', 'status', 'attempts', 'createdAt', 'startedAt', 'finishedAt', 'nextAttemptAt', 'error', 'response', 'request', 'trigger'],
      properties: {
        id: { type: 'string' },
        function: { type: 'string' },
        version: { type: ['integer', 'null'], description: 'the function version of the last attempt' },
        status: { type: 'string', enum: INVOCATION_STATUSES },
        attempts: { type: 'integer', minimum: 0 },
        createdAt: { type: 'string', format: 'date-time' },
        startedAt: { ...timeOrNull, description: 'when the last attempt started' },
        finishedAt: timeOrNull,
        nextAttemptAt: timeOrNull,
        error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
        response: {
          type: ['object', 'null'],
          properties: {
            status: { type: 'integer' },
            headers: { type: 'object' },
            body: { type: 'string' },
            bodyEncoding: { type: 'string', enum: ['utf8', 'base64'] },
            truncated: { type: 'boolean', description: 'the body was longer than the 1 MiB kept' },
          },
        },
        logs: { type: 'array', items: ref('LogEntry'), description: 'with ?logs=true: the lines the invocation wrote, oldest first' },
        request: { type: 'object', properties: { method: { type: 'string' }, path: { type: 'string' } } },
        trigger: { type: ['string', 'null'], description: 'the trigger whose event this is (the function received it as a CloudEvent)' },
        source: { type: 'string', enum: ['http', 'async', 'trigger'] },
        httpStatus: { type: ['integer', 'null'], description: 'the status the function answered the last attempt with' },
        metering: ref('InvocationMetering'),
      },
    },
    InvocationList: {
      type: 'object',
      required: ['invocations', 'nextCursor'],
      properties: { invocations: { type: 'array', items: ref('Invocation') }, nextCursor: { type: ['string', 'null'] } },
    },
  };
}
