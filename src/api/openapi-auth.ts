import { SCOPES } from '../core/scope.js';
import { INVOKE_KEY_HEADER } from '../core/invoke-auth.js';
import { FUNCTION_NAME_PATTERN } from '../core/spec.js';
import type { RouteAccess } from './route-table.js';

/** The OpenAPI parts of access control: token and key routes, their schemas, security schemes. */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const time = { type: 'string', format: 'date-time' };
const timeOrNull = { type: ['string', 'null'], format: 'date-time' };

/** Paths of `GET /api/v1/whoami`, `/api/v1/tokens` and `/api/v1/functions/{name}/keys`. */
export function authPaths(): Record<string, object> {
  return {
    '/api/v1/whoami': {
      get: { summary: 'The token this request was made with', responses: { 200: { description: 'Its id, name and scope', content: json(ref('WhoAmI')) } } },
    },
    '/api/v1/tokens': {
      get: { summary: 'List API tokens (never their values)', responses: { 200: { description: 'Tokens, oldest first, revoked ones included', content: json({ type: 'object', properties: { tokens: { type: 'array', items: ref('Token') } } }) } } },
      post: {
        summary: 'Create an API token; its value is in this answer only',
        requestBody: { required: true, content: json(ref('TokenRequest')) },
        responses: { 201: { description: 'Created', content: json(ref('NewToken')) }, 400: errorResponse('INVALID_REQUEST, INVALID_JSON') },
      },
    },
    '/api/v1/tokens/{id}': {
      parameters: [idParam],
      delete: { summary: 'Revoke an API token', responses: { 204: { description: 'Revoked (at once)' }, 404: errorResponse('TOKEN_NOT_FOUND') } },
    },
    '/api/v1/functions/{name}/keys': {
      parameters: [nameParam],
      get: { summary: "List a function's invoke keys (never the keys)", responses: { 200: { description: 'Keys, oldest first, revoked ones included', content: json({ type: 'object', properties: { keys: { type: 'array', items: ref('InvokeKey') } } }) }, 404: errorResponse('FUNCTION_NOT_FOUND') } },
      post: {
        summary: 'Create an invoke key; the key is in this answer only',
        requestBody: { required: false, content: json({ type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false }) },
        responses: { 201: { description: 'Created', content: json(ref('NewInvokeKey')) }, 400: errorResponse('INVALID_REQUEST'), 404: errorResponse('FUNCTION_NOT_FOUND') },
      },
    },
    '/api/v1/functions/{name}/keys/{id}': {
      parameters: [nameParam, idParam],
      delete: { summary: 'Revoke an invoke key', responses: { 204: { description: 'Revoked (at once)' }, 404: errorResponse('FUNCTION_NOT_FOUND, INVOKE_KEY_NOT_FOUND') } },
    },
  };
}

/** Schemas of the access control routes. */
export function authSchemas(): Record<string, object> {
  const token = { id: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string', enum: [...SCOPES] }, createdAt: time, lastUsedAt: timeOrNull, revoked: { type: 'boolean' }, revokedAt: timeOrNull };
  const key = { id: { type: 'string' }, function: { type: 'string' }, name: { type: 'string' }, createdAt: time, revoked: { type: 'boolean' }, revokedAt: timeOrNull };
  return {
    WhoAmI: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string', enum: [...SCOPES] } } },
    TokenRequest: { type: 'object', required: ['name', 'scope'], additionalProperties: false, properties: { name: { type: 'string' }, scope: { type: 'string', enum: [...SCOPES] } } },
    Token: { type: 'object', properties: token },
    NewToken: { type: 'object', properties: { ...token, token: { type: 'string', description: 'the token (nmb_…); shown only here' } } },
    InvokeKey: { type: 'object', properties: key },
    NewInvokeKey: { type: 'object', properties: { ...key, key: { type: 'string', description: `the key (nmk_…), sent as ${INVOKE_KEY_HEADER}; shown only here` } } },
  };
}

export const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: 'An API token (nmb_…). Scopes: read (GET), deploy (packages, functions, invoke keys), admin (everything, tokens).' },
  invokeKey: { type: 'apiKey', in: 'header', name: INVOKE_KEY_HEADER, description: 'An invoke key (nmk_…) of the function, for functions with auth "key".' },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/**
 * Marks each API operation with the security it needs and its scope (`x-nimbus-scope`), taken
 * from `scopeFor`: the route table the platform enforces, so the document cannot drift from it.
 */
export function withSecurity(paths: Record<string, Record<string, unknown>>, scopeFor: (method: string, path: string) => RouteAccess): Record<string, Record<string, unknown>> {
  for (const [path, item] of Object.entries(paths)) {
    const concrete = path.replace(/\{[^}]+\}/g, 'x');
    for (const method of METHODS) {
      const operation = item[method] as Record<string, unknown> | undefined;
      if (!operation) continue;
      if (!path.startsWith('/api/')) {
        operation['security'] = [{}, { invokeKey: [] }];
        continue;
      }
      const scope = scopeFor(method.toUpperCase(), concrete);
      operation['security'] = scope === 'open' ? [] : [{ bearer: [] }];
      if (scope !== 'open') {
        operation['x-nimbus-scope'] = scope;
        operation['responses'] = {
          ...(operation['responses'] as object),
          401: errorResponse('UNAUTHENTICATED, INVALID_TOKEN'),
          403: errorResponse(`FORBIDDEN (needs scope ${scope})`),
          429: errorResponse('AUTH_RATE_LIMITED'),
        };
      }
    }
  }
  return paths;
}
