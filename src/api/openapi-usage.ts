import { FUNCTION_NAME_PATTERN } from '../core/spec.js';
import { USAGE_GROUPINGS } from './wire.js';

/** The OpenAPI parts of metering and stats: `/api/v1/usage`, `/api/v1/stats`, `/api/v1/functions/{name}/stats`. */

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source } };
const time = (what: string) => ({ type: 'string', description: `${what}: an ISO timestamp, or a duration back from now (30m, 12h, 30d)` });
const numberOrNull = { type: ['number', 'null'] };

const FIGURES = {
  invocations: { type: 'integer' },
  errors: { type: 'integer', description: 'a platform error, the caller leaving, or a status of 400 or more' },
  gbSeconds: { type: 'number', description: 'memory size in GB × billed seconds' },
  cpuSeconds: { type: 'number', description: 'CPU time the runtimes reported' },
  billedMs: { type: 'integer', description: 'start and handler time, each invocation rounded up to the millisecond' },
  bytesIn: { type: 'integer' },
  bytesOut: { type: 'integer' },
  estimatedCost: { ...numberOrNull, description: 'invocations / 1e6 × perMillionRequests + gbSeconds × perGbSecond; null without prices' },
};

/** Paths of the usage ledger and the stats. */
export function usagePaths(): Record<string, object> {
  return {
    '/api/v1/usage': {
      get: {
        summary: 'The metering ledger: hourly totals whose hour starts in [since, until), by function, hour or day',
        parameters: [
          { name: 'since', in: 'query', schema: time('from (default: 30 days before until)') },
          { name: 'until', in: 'query', schema: time('to (default: now)') },
          { name: 'by', in: 'query', schema: { type: 'string', enum: USAGE_GROUPINGS, default: 'function' } },
          { name: 'function', in: 'query', schema: { type: 'string', pattern: FUNCTION_NAME_PATTERN.source } },
        ],
        responses: { 200: { description: 'The report', content: json(ref('UsageReport')) }, 400: errorResponse('INVALID_REQUEST, INVALID_NAME') },
      },
    },
    '/api/v1/stats': {
      get: {
        summary: 'Every function over a window (from in-memory per-minute figures; empty after a restart)',
        parameters: [{ name: 'window', in: 'query', schema: { type: 'string', default: '5m', description: '1m to 24h' } }],
        responses: { 200: { description: 'Figures per function', content: json(ref('StatsReport')) }, 400: errorResponse('INVALID_REQUEST') },
      },
    },
    '/api/v1/functions/{name}/stats': {
      parameters: [nameParam],
      get: {
        summary: 'One function minute by minute, oldest first (empty minutes included)',
        parameters: [{ name: 'minutes', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1440, default: 60 } }],
        responses: { 200: { description: 'One bucket per minute', content: json(ref('FunctionStatsReport')) }, 400: errorResponse('INVALID_REQUEST, INVALID_NAME') },
      },
    },
  };
}

/** Schemas of the usage and stats answers, and of an invocation's metering. */
export function usageSchemas(): Record<string, object> {
  const stats = { invocations: { type: 'integer' }, errors: { type: 'integer' }, p50Ms: numberOrNull, p99Ms: numberOrNull, coldStarts: { type: 'integer' } };
  return {
    UsageFigures: { type: 'object', required: Object.keys(FIGURES), properties: FIGURES },
    UsageReport: {
      type: 'object',
      required: ['since', 'until', 'by', 'prices', 'rows', 'total'],
      properties: {
        since: { type: 'string', format: 'date-time' },
        until: { type: 'string', format: 'date-time' },
        by: { type: 'string', enum: USAGE_GROUPINGS },
        prices: { type: ['object', 'null'], properties: { perMillionRequests: { type: 'number' }, perGbSecond: { type: 'number' } } },
        rows: { type: 'array', items: { allOf: [{ type: 'object', required: ['key'], properties: { key: { type: 'string', description: 'function name, or ISO start of the hour or UTC day' } } }, ref('UsageFigures')] } },
        total: ref('UsageFigures'),
      },
    },
    StatsReport: {
      type: 'object',
      required: ['window', 'functions'],
      properties: {
        window: { type: 'string' },
        functions: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, ratePerSecond: { type: 'number' }, ...stats } } },
      },
    },
    FunctionStatsReport: {
      type: 'object',
      required: ['function', 'bucketSeconds', 'buckets'],
      properties: {
        function: { type: 'string' },
        bucketSeconds: { type: 'integer', const: 60 },
        buckets: { type: 'array', items: { type: 'object', properties: { start: { type: 'string', format: 'date-time' }, ...stats } } },
      },
    },
    InvocationMetering: {
      type: ['object', 'null'],
      description: 'what the invocation used; for an async one its attempts added up, the timings of the last',
      properties: {
        durationMs: { type: 'number' },
        billedMs: { type: 'integer' },
        memoryMb: { type: 'integer' },
        gbSeconds: { type: 'number' },
        cpuMs: numberOrNull,
        bytesIn: { type: 'integer' },
        bytesOut: { type: 'integer' },
        coldStart: { type: 'boolean' },
        queueMs: { type: 'number' },
        startMs: { type: 'number' },
        handlerMs: { type: 'number' },
      },
    },
  };
}
