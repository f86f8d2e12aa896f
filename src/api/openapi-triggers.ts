import { FUNCTION_NAME_PATTERN } from '../core/spec.js';
import { TRIGGER_STATUSES } from './wire.js';

/** The OpenAPI parts of triggers: `/api/v1/triggers` and the trigger schemas. */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source }, description: 'the trigger name (a DNS label)' };
const one = (description: string) => ({ description, content: json(ref('Trigger')) });
const badInput = errorResponse(
  'INVALID_TRIGGER (name, type, settings: e.g. an invalid cron expression or zone, a URL with credentials), UNKNOWN_SECRET, TRIGGER_SOURCE_UNREACHABLE (the broker cannot be reached, or its stream or exchange does not exist), INVALID_JSON',
);
const notFound = errorResponse('TRIGGER_NOT_FOUND');

/** Paths of `/api/v1/triggers`. */
export function triggerPaths(): Record<string, object> {
  return {
    '/api/v1/triggers': {
      get: {
        summary: 'List triggers, ordered by name',
        parameters: [{ name: 'function', in: 'query', schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source }, description: "only this function's triggers" }],
        responses: { 200: { description: 'The triggers', content: json(ref('TriggerList')) } },
      },
      post: {
        summary: 'Create a trigger (refused when the name is taken)',
        requestBody: { required: true, content: json({ allOf: [ref('TriggerRequest'), { type: 'object', required: ['name'] }] }) },
        responses: { 201: one('Created; its source starts'), 400: badInput, 404: errorResponse('FUNCTION_NOT_FOUND'), 409: errorResponse('TRIGGER_EXISTS') },
      },
    },
    '/api/v1/triggers/{name}': {
      parameters: [nameParam],
      get: { summary: 'A trigger and its status', responses: { 200: one('The trigger'), 404: notFound } },
      put: {
        summary: 'Create or replace a trigger (its source restarts)',
        requestBody: { required: true, content: json(ref('TriggerRequest')) },
        responses: { 200: one('Replaced'), 201: one('Created'), 400: badInput, 404: errorResponse('FUNCTION_NOT_FOUND') },
      },
      patch: {
        summary: 'Change some fields of a trigger (settings are replaced as a whole)',
        requestBody: { required: true, content: json({ type: 'object', additionalProperties: false, properties: { function: { type: 'string' }, type: { type: 'string' }, settings: { type: 'object' }, state: { type: 'string', enum: ['active', 'paused'] } } }) },
        responses: { 200: one('Updated'), 400: badInput, 404: errorResponse('TRIGGER_NOT_FOUND, FUNCTION_NOT_FOUND') },
      },
      delete: { summary: 'Remove a trigger (its source stops)', responses: { 204: { description: 'Removed' }, 404: notFound } },
    },
    '/api/v1/triggers/{name}/pause': {
      parameters: [nameParam],
      post: { summary: "Pause a trigger: its source stops until resumed (a broker keeps what arrives meanwhile)", responses: { 200: one('Paused'), 404: notFound } },
    },
    '/api/v1/triggers/{name}/resume': {
      parameters: [nameParam],
      post: { summary: 'Resume a paused trigger', responses: { 200: one('Active again'), 404: notFound } },
    },
  };
}

/** Schemas of the trigger routes. */
export function triggerSchemas(): Record<string, object> {
  return {
    TriggerRequest: {
      type: 'object',
      required: ['function', 'type'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source, description: 'POST only (PUT takes it from the path)' },
        function: { type: 'string', description: 'the function the events go to (the trigger is removed with it)' },
        type: { type: 'string', description: 'cron, nats, mqtt, amqp, redis, file or event (see docs/triggers.md)' },
        settings: {
          type: 'object',
          description: 'depend on type; cron: schedule (5 or 6 fields), timezone (IANA), data (JSON, the event data), catchUp (boolean). Broker URLs never carry credentials: name a secret in urlSecret.',
        },
        state: { type: 'string', enum: ['active', 'paused'], description: 'default active; on PUT of an existing trigger, unchanged' },
      },
    },
    Trigger: {
      type: 'object',
      required: ['name', 'function', 'type', 'settings', 'state', 'status', 'error', 'since', 'createdAt', 'updatedAt'],
      properties: {
        name: { type: 'string' },
        function: { type: 'string' },
        type: { type: 'string' },
        settings: { type: 'object' },
        state: { type: 'string', enum: ['active', 'paused'], description: 'what was asked for' },
        status: { type: 'string', enum: TRIGGER_STATUSES, description: 'what it does now: paused; starting (its source was started and has not yet said it consumes); failing (its source cannot consume: see error); or active' },
        error: { type: ['string', 'null'], description: 'why it is failing' },
        since: { type: 'string', format: 'date-time', description: 'since when it has this status' },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
    TriggerList: { type: 'object', required: ['triggers'], properties: { triggers: { type: 'array', items: ref('Trigger') } } },
  };
}
