import type { IncomingMessage } from 'node:http';
import { NimbusError } from '../core/errors.js';
import { assertSecretName, SECRET_LIMITS } from '../core/secret-rules.js';
import { sendJson } from '../http/respond.js';
import type { SecretService } from '../control/secret-service.js';
import { isJsonType, readBody } from './body.js';
import type { ApiRoute } from './route-table.js';
import { secretView } from './secret-view.js';

/** A JSON `{"value": "…"}` body: the value escaped, plus room for the wrapper. */
const MAX_JSON_BYTES = 6 * SECRET_LIMITS.valueBytes + 1024;

/** `/api/v1/secrets` and `/api/v1/secrets/{name}`. Responses carry metadata, never values. */
export function secretRoutes(secrets: SecretService): ApiRoute[] {
  return [
    {
      pattern: /^\/api\/v1\/secrets$/,
      methods: { GET: { scope: 'read', handle: async (_req, res) => sendJson(res, 200, { secrets: (await secrets.list()).map(secretView) }) } },
    },
    {
      pattern: /^\/api\/v1\/secrets\/([^/]+)$/,
      // Names and metadata are readable with `read`; setting or removing a value needs admin.
      methods: {
        GET: { scope: 'read', handle: async (_req, res, { name }) => sendJson(res, 200, secretView(await secrets.get(name))) },
        PUT: {
          scope: 'admin',
          handle: async (req, res, { name }) => {
            assertSecretName(name);
            const { secret, created } = await secrets.set(name, await readSecretValue(req));
            sendJson(res, created ? 201 : 200, secretView(secret));
          },
        },
        DELETE: {
          scope: 'admin',
          handle: async (_req, res, { name }) => {
            await secrets.remove(name);
            res.writeHead(204).end();
          },
        },
      },
    },
  ];
}

/**
 * The value of `PUT /api/v1/secrets/{name}`: the raw body, or with a JSON content type the string
 * in `{"value": "…"}`. Errors never quote the body: it is the secret. (JSON.parse's own messages
 * would, so they are not passed on.)
 */
export async function readSecretValue(req: IncomingMessage): Promise<Uint8Array> {
  const type = req.headers['content-type'];
  if (type === undefined || !isJsonType(type)) return readBody(req, SECRET_LIMITS.valueBytes, 'value');
  const text = (await readBody(req, MAX_JSON_BYTES, 'value')).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new NimbusError('INVALID_JSON', 'The request body is not valid JSON. Send {"value": "…"}, or the raw value with another content type.', {
      details: { field: 'body' },
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new NimbusError('INVALID_REQUEST', 'body: send a JSON object {"value": "…"}.', { details: { field: 'body' } });
  }
  const unknown = Object.keys(body).find((key) => key !== 'value');
  if (unknown !== undefined) {
    throw new NimbusError('INVALID_REQUEST', `Unknown field ${JSON.stringify(unknown.slice(0, 80))}. Allowed: value.`, { details: { field: unknown.slice(0, 200) } });
  }
  const value = (body as { value?: unknown }).value;
  if (typeof value !== 'string') {
    throw new NimbusError('INVALID_REQUEST', `value: must be a string${value === undefined ? ' (missing)' : ''}.`, { details: { field: 'value' } });
  }
  // A lone UTF-16 surrogate has no UTF-8 form: Buffer.from would silently replace it.
  if (/[\uD800-\uDFFF]/u.test(value)) {
    throw new NimbusError('INVALID_REQUEST', 'value: the value is not valid Unicode text.', { details: { field: 'value' } });
  }
  return Buffer.from(value, 'utf8');
}
