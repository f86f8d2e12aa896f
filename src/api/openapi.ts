import { z } from 'zod';
import { ERRORS } from '../core/errors.js';
import { SECRET_LIMITS, SECRET_NAME_PATTERN } from '../core/secret-rules.js';
import { functionConfigSchema, FUNCTION_NAME_PATTERN } from '../core/spec.js';
import { asyncPaths, asyncSchemas } from './openapi-async.js';
import { triggerPaths, triggerSchemas } from './openapi-triggers.js';
import { eventsPaths, eventsSchemas, INGRESS_KEY_SCHEME } from './openapi-events.js';
import { usagePaths, usageSchemas } from './openapi-usage.js';
import { authPaths, authSchemas, SECURITY_SCHEMES, withSecurity } from './openapi-auth.js';
import type { RouteAccess } from './route-table.js';
import { PACKAGE_FILENAME_HEADER } from './wire.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source } };
const secretParam = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: SECRET_NAME_PATTERN.source, maxLength: SECRET_LIMITS.nameLength },
  description: 'names starting with NIMBUS_ are reserved',
};

const secretSchema = {
  type: 'object',
  required: ['name', 'version', 'functions', 'createdAt', 'updatedAt'],
  description: 'A secret: metadata only. Values are never answered.',
  properties: {
    name: { type: 'string' },
    version: { type: 'integer', minimum: 1, description: 'grows by one each time the value is replaced' },
    functions: { type: 'array', items: { type: 'string' }, description: 'functions whose current version uses it' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

const functionSchema = {
  type: 'object',
  required: ['name', 'runtime', 'handler', 'version', 'package', 'env', 'secrets', 'timeout', 'memory', 'idleTimeout', 'concurrency', 'maxInstances', 'asyncConcurrency', 'maxRetries', 'retryDelay', 'maxEventAge', 'url', 'instances', 'createdAt', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    runtime: { type: 'string', enum: ['node', 'python', 'exec'] },
    handler: { type: 'string', description: 'node: entry file or file.export; python: module.function; exec: the command' },
    protocol: { type: 'string', enum: ['http', 'stdio'], description: 'exec functions only' },
    version: { type: 'integer', minimum: 1 },
    package: { type: 'string', description: 'sha256 of the package' },
    env: { type: 'object', additionalProperties: { type: 'string' } },
    secrets: { type: 'array', items: { type: 'string' }, description: 'names of the secrets it gets as env variables' },
    timeout: { type: 'number', description: 'seconds' },
    memory: { type: 'integer', description: 'MB' },
    idleTimeout: { type: 'number', description: 'seconds' },
    concurrency: { type: 'integer' },
    maxInstances: { type: 'integer' },
    minInstances: { type: 'integer' },
    network: {
      type: 'string',
      enum: ['outbound', 'none', 'host'],
      description: "outbound: own network reaching the outside, not the host's loopback or ports; none: loopback only; host: the host's network (explicit; refused on a non-loopback platform without --allow-host-network)",
    },
    auth: { type: 'string', enum: ['public', 'key'], description: "who may invoke it, in effect (its own setting, else the platform's default)" },
    asyncConcurrency: { type: 'integer', minimum: 0, description: 'async invocations running at once, in effect (its own setting, else half its capacity); 0: held, accepted and kept queued' },
    maxRetries: { type: 'integer', minimum: 0, description: 'retries of a failed async invocation after its first attempt' },
    retryDelay: { type: 'number', description: 'seconds before the first retry; later ones double' },
    maxEventAge: { type: 'number', description: 'seconds a queued async invocation may wait before it is given up (dead)' },
    onSuccess: { type: 'string', description: 'the function that gets the outcome of succeeded async invocations (absent: none)' },
    onFailure: { type: 'string', description: 'the function that gets the outcome of failed and dead async invocations (absent: none)' },
    url: { type: 'string', format: 'uri' },
    instances: { type: 'integer', description: 'running instances (starting, ready or draining)' },
    readyInstances: { type: 'integer', description: 'instances ready to serve the current version' },
    desired: { type: 'integer', description: "the autoscaler's current decision" },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

/** The 202 of an invocation sent with `Prefer: respond-async`. */
function accepted202(): object {
  return { description: 'With Prefer: respond-async: queued (see /async/{name}/{path})', content: json(ref('AsyncAccepted')) };
}

/**
 * The OpenAPI 3.1 description of the management API and the invocation route. `scopeFor` answers
 * the scope a request needs, as the API enforces it (its route table).
 */
export function openApiDocument(serverUrl: string, scopeFor: (method: string, path: string) => RouteAccess): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Nimbus API', version: '1', description: 'Management API of the Nimbus serverless platform. See docs/api.md.' },
    servers: [{ url: serverUrl }],
    paths: {
      ...withSecurity({
      '/api/v1/packages': {
        post: {
          summary: 'Upload a package (tar.gz, zip or a single file)',
          parameters: [{ name: PACKAGE_FILENAME_HEADER, in: 'header', schema: { type: 'string' }, description: 'name of a single-file upload' }],
          requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          responses: {
            201: { description: 'Stored (or already present)', content: json(ref('Package')) },
            400: errorResponse('INVALID_ARCHIVE, UNSAFE_ARCHIVE_PATH, UNSAFE_ARCHIVE_LINK, EMPTY_PACKAGE'),
            413: errorResponse('ARCHIVE_TOO_LARGE, ARCHIVE_TOO_MANY_ENTRIES'),
          },
        },
      },
      '/api/v1/limits': {
        get: { summary: "The platform's size limits, for clients to check before sending", responses: { 200: { description: 'The limits, in bytes', content: json(ref('Limits')) } } },
      },
      '/api/v1/functions': {
        get: { summary: 'List functions', responses: { 200: { description: 'Functions by name', content: json({ type: 'object', properties: { functions: { type: 'array', items: ref('Function') } } }) } } },
      },
      '/api/v1/functions/{name}': {
        parameters: [nameParam],
        get: { summary: 'Get a function', responses: { 200: { description: 'The function', content: json(ref('Function')) }, 400: errorResponse('INVALID_NAME'), 404: errorResponse('FUNCTION_NOT_FOUND') } },
        put: {
          summary: 'Create a function or deploy a new version',
          requestBody: { required: true, content: json(ref('FunctionConfig')) },
          responses: {
            200: { description: 'Updated', content: json(ref('Function')) },
            201: { description: 'Created', content: json(ref('Function')) },
            400: errorResponse('INVALID_NAME, INVALID_REQUEST, INVALID_JSON, PACKAGE_NOT_FOUND, UNKNOWN_SECRET, RUNTIME_NOT_DETECTED, RUNTIME_MISMATCH, HANDLER_NOT_FOUND, HANDLER_SYNTAX_ERROR, BUILD_FAILED'),
          },
        },
        delete: { summary: 'Delete a function', responses: { 204: { description: 'Deleted' }, 400: errorResponse('INVALID_NAME'), 404: errorResponse('FUNCTION_NOT_FOUND') } },
      },
      '/api/v1/secrets': {
        get: { summary: 'List secrets (metadata, never values)', responses: { 200: { description: 'Secrets by name', content: json({ type: 'object', properties: { secrets: { type: 'array', items: ref('Secret') } } }) } } },
      },
      '/api/v1/secrets/{name}': {
        parameters: [secretParam],
        get: { summary: "Get a secret's metadata", responses: { 200: { description: 'The secret (no value)', content: json(ref('Secret')) }, 400: errorResponse('INVALID_SECRET_NAME'), 404: errorResponse('SECRET_NOT_FOUND') } },
        put: {
          summary: 'Create a secret or replace its value',
          description: `The body is the value: raw bytes (UTF-8 text, no NUL, 1 byte to ${SECRET_LIMITS.valueBytes} bytes), or with a JSON content type {"value": "…"}. Functions using the secret replace their running instances.`,
          requestBody: {
            required: true,
            content: {
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              'text/plain': { schema: { type: 'string' } },
              'application/json': { schema: { type: 'object', required: ['value'], additionalProperties: false, properties: { value: { type: 'string' } } } },
            },
          },
          responses: {
            200: { description: 'Replaced', content: json(ref('Secret')) },
            201: { description: 'Created', content: json(ref('Secret')) },
            400: errorResponse('INVALID_SECRET_NAME, INVALID_REQUEST, INVALID_JSON'),
            413: errorResponse('PAYLOAD_TOO_LARGE'),
          },
        },
        delete: {
          summary: 'Delete a secret',
          responses: { 204: { description: 'Deleted' }, 400: errorResponse('INVALID_SECRET_NAME'), 404: errorResponse('SECRET_NOT_FOUND'), 409: errorResponse('SECRET_IN_USE') },
        },
      },
      '/api/v1/functions/{name}/logs': {
        parameters: [nameParam],
        get: {
          summary: "Read a function's logs",
          parameters: [
            { name: 'since', in: 'query', schema: { type: 'string' }, description: 'duration back from now (10m) or ISO timestamp' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
            { name: 'invocation', in: 'query', schema: { type: 'string', minLength: 1, maxLength: 100 }, description: "only that invocation's lines (its x-nimbus-invocation-id)" },
            { name: 'follow', in: 'query', schema: { type: 'boolean' }, description: 'stream NDJSON until the client disconnects' },
          ],
          responses: {
            200: {
              description: 'Log entries, oldest first',
              content: { ...json({ type: 'object', properties: { logs: { type: 'array', items: ref('LogEntry') } } }), 'application/x-ndjson': { schema: ref('LogEntry') } },
            },
            400: errorResponse('INVALID_NAME, INVALID_REQUEST'),
            404: errorResponse('FUNCTION_NOT_FOUND'),
          },
        },
      },
      '/fn/{name}/{path}': {
        parameters: [nameParam, { name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'sub-path seen by the function (may be empty)' }],
        summary: 'Invoke a function with any method; the response is the function’s own (with Prefer: respond-async, 202 as for /async/{name})',
        get: { responses: { 202: accepted202(), default: { description: "The function's response, with x-nimbus-invocation-id" }, 401: errorResponse('INVOKE_KEY_REQUIRED'), 403: errorResponse('INVOKE_KEY_INVALID'), 404: errorResponse('FUNCTION_NOT_FOUND'), 413: errorResponse('PAYLOAD_TOO_LARGE'), 500: errorResponse('SECRET_DECRYPT_FAILED'), 502: errorResponse('FUNCTION_ERROR, FUNCTION_CRASHED, FUNCTION_OUT_OF_MEMORY, FUNCTION_START_FAILED'), 503: errorResponse('FUNCTION_OVERLOADED'), 504: errorResponse('FUNCTION_TIMEOUT') } },
      },
      ...authPaths(),
      ...asyncPaths(),
      ...triggerPaths(),
      ...usagePaths(),
    }, scopeFor),
      // Outside withSecurity, which gives paths beyond /api/ the invoke-key scheme: /events takes
      // API tokens or the ingress key.
      ...eventsPaths(),
    },
    components: {
      securitySchemes: { ...SECURITY_SCHEMES, ...INGRESS_KEY_SCHEME },
      schemas: {
        ...authSchemas(),
        ...asyncSchemas(),
        ...triggerSchemas(),
        ...eventsSchemas(),
        ...usageSchemas(),
        FunctionConfig: z.toJSONSchema(functionConfigSchema, { io: 'input' }),
        Function: functionSchema,
        Secret: secretSchema,
        Package: {
          type: 'object',
          properties: { sha256: { type: 'string' }, size: { type: 'integer' }, format: { type: 'string', enum: ['tar.gz', 'zip', 'file'] }, files: { type: 'integer' }, unpackedBytes: { type: 'integer' } },
        },
        Limits: {
          type: 'object',
          required: ['package', 'invokeBodyBytes', 'apiBodyBytes'],
          properties: {
            package: {
              type: 'object',
              required: ['maxBytes', 'maxUnpackedBytes', 'maxEntries'],
              properties: { maxBytes: { type: 'integer', description: 'largest upload' }, maxUnpackedBytes: { type: 'integer' }, maxEntries: { type: 'integer' } },
            },
            invokeBodyBytes: { type: 'integer', description: 'largest invocation request body' },
            apiBodyBytes: { type: 'integer', description: 'largest management API JSON body' },
          },
        },
        LogEntry: {
          type: 'object',
          properties: { time: { type: 'string', format: 'date-time' }, function: { type: 'string' }, invocationId: { type: ['string', 'null'] }, stream: { type: 'string', enum: ['stdout', 'stderr'] }, message: { type: 'string' } },
        },
        Error: {
          type: 'object',
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, message: { type: 'string' }, details: { type: 'object' } } } },
        },
      },
    },
  };
}
