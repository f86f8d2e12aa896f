import { EVENTS_SCOPE } from '../edges/events-ingress.js';

/**
 * The OpenAPI parts of the CloudEvents ingress (`POST /events`, docs/events-ingress.md). Its
 * security is declared here (a bearer token of scope deploy), not by `withSecurity`, which gives
 * paths outside /api/ the invoke-key scheme of /fn: add `eventsPaths()` beside its result.
 */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const cloudEventJson = {
  type: 'object',
  required: ['specversion', 'id', 'source', 'type'],
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', minLength: 1 },
    source: { type: 'string', minLength: 1, format: 'uri-reference' },
    type: { type: 'string', minLength: 1 },
    subject: { type: 'string', minLength: 1 },
    time: { type: 'string', format: 'date-time' },
    datacontenttype: { type: 'string' },
    dataschema: { type: 'string', format: 'uri' },
    data: {},
    data_base64: { type: 'string', contentEncoding: 'base64' },
  },
  additionalProperties: { type: ['string', 'boolean', 'integer'], description: 'extension attributes: names of 1-20 lower-case letters and digits' },
};

/** Path of `/events`. */
export function eventsPaths(): Record<string, object> {
  return {
    '/events': {
      post: {
        summary: 'Send CloudEvents 1.0 (binary, structured or batched HTTP mode) to the event triggers that match them',
        description:
          'Binary mode: ce-specversion, ce-id, ce-source, ce-type (and other ce-*) headers, the body is the data. Each event goes to every event trigger whose eventType equals its type and whose eventSource (if set) prefixes its source: one async invocation each. An event no trigger takes is accepted and dropped.',
        // An API token of scope deploy, or the ingress key (nimbus up --ingress-key-file) in x-nimbus-ingress-key or as the bearer.
        security: [{ bearer: [] }, { ingressKey: [] }],
        'x-nimbus-scope': EVENTS_SCOPE,
        parameters: [
          { name: 'ce-specversion', in: 'header', schema: { const: '1.0' }, description: 'binary mode' },
          { name: 'ce-id', in: 'header', schema: { type: 'string' }, description: 'binary mode' },
          { name: 'ce-source', in: 'header', schema: { type: 'string' }, description: 'binary mode' },
          { name: 'ce-type', in: 'header', schema: { type: 'string' }, description: 'binary mode' },
        ],
        requestBody: {
          required: false,
          content: {
            'application/cloudevents+json': { schema: cloudEventJson },
            'application/cloudevents-batch+json': { schema: { type: 'array', items: cloudEventJson } },
            '*/*': { schema: { description: 'binary mode: the data, byte for byte' } },
          },
        },
        responses: {
          202: { description: 'Every matching trigger has durably queued the events (none may have matched)', content: json(ref('EventsAccepted')) },
          400: errorResponse('INVALID_CLOUDEVENT (nothing was delivered)'),
          401: errorResponse('UNAUTHENTICATED, INVALID_TOKEN'),
          403: errorResponse(`FORBIDDEN (needs scope ${EVENTS_SCOPE})`),
          405: errorResponse('METHOD_NOT_ALLOWED'),
          413: errorResponse('PAYLOAD_TOO_LARGE'),
          415: errorResponse('UNSUPPORTED_MEDIA_TYPE (a CloudEvents format other than JSON)'),
          429: errorResponse('AUTH_RATE_LIMITED'),
          503: errorResponse('FUNCTION_OVERLOADED (a matching function has a full async backlog; Retry-After), SHUTTING_DOWN'),
        },
      },
    },
  };
}

/** The ingress key's security scheme (add to `components.securitySchemes`). */
export const INGRESS_KEY_SCHEME = { ingressKey: { type: 'apiKey', in: 'header', name: 'x-nimbus-ingress-key', description: 'the key of nimbus up --ingress-key-file; may only POST /events' } };

/** Schemas of the ingress's answers. */
export function eventsSchemas(): Record<string, object> {
  return {
    EventsAccepted: {
      type: 'object',
      required: ['events', 'deliveries', 'triggers'],
      properties: {
        events: { type: 'integer', description: 'events in the request' },
        deliveries: { type: 'integer', description: 'one per event and matching trigger (async invocations queued)' },
        triggers: {
          type: 'array',
          items: {
            type: 'object',
            required: ['trigger', 'function', 'events'],
            properties: { trigger: { type: 'string' }, function: { type: 'string' }, events: { type: 'integer' } },
          },
        },
      },
    },
  };
}
