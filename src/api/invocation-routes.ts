import { INVOCATION_STATUSES, type InvocationList, type InvocationView, type InvocationStatus, type PurgeResult, type RedriveResult } from './wire.js';
import type { Clock } from '../core/clock.js';
import type { HistoryRepository } from '../store/history-types.js';
import type { DeadLetters } from '../async/dead-letters.js';
import { redriveTarget } from '../async/dead-letters.js';
import type { FunctionService } from '../control/function-service.js';
import { NimbusError } from '../core/errors.js';
import { assertFunctionName } from '../core/spec.js';
import { sendJson } from '../http/respond.js';
import type { InvocationCursor, InvocationRepository } from '../store/invocation-types.js';
import type { LogBuffer } from '../telemetry/logs.js';
import { readJson } from './body.js';
import { toWire as logLineView } from './logs-route.js';
import { listInvocations, type ListQuery, SOURCES } from './invocation-list.js';
import { historyView, invocationView } from './invocation-view.js';
import { timeParam } from './time-query.js';
import type { ApiRoute } from './route-table.js';

/** What the invocation routes need. */
export interface InvocationRouteDeps {
  invocations: InvocationRepository;
  deadLetters: DeadLetters;
  /** To answer FUNCTION_NOT_FOUND for dead-letter routes of unknown functions. */
  service: Pick<FunctionService, 'get'>;
  /** Every invocation's record (undefined when records are off: only async ones are listed). */
  history: HistoryRepository | undefined;
  clock: Clock;
  /** The invocation's log lines, for `GET /api/v1/invocations/{id}?logs=true`. */
  logs: Pick<LogBuffer, 'read'>;
}

/** Largest page of `GET /api/v1/invocations`, and the default. */
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

/**
 * `/api/v1/invocations[/{id}]` (every invocation: async records and the history, read scope) and
 * `/api/v1/functions/{name}/dlq[/redrive]` (dead letters: purge and redrive, deploy scope).
 */
export function invocationRoutes(deps: InvocationRouteDeps): ApiRoute[] {
  const { invocations, deadLetters, service, history, clock, logs } = deps;
  /** INVALID_NAME or FUNCTION_NOT_FOUND unless `name` is a deployed function. */
  const deployed = async (name: string) => {
    assertFunctionName(name);
    await service.get(name);
  };
  return [
    {
      pattern: /^\/api\/v1\/invocations$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (_req, res, { url }) => {
            const page = await listInvocations(invocations, history, listQuery(url.searchParams, clock.now()));
            const body: InvocationList = { invocations: page.views, nextCursor: page.next ? encodeCursor(page.next) : null };
            sendJson(res, 200, body);
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/invocations\/([^/]+)$/,
      methods: {
        GET: {
          scope: 'read',
          handle: async (_req, res, { name: id, url }) => {
            const withLogs = logsWanted(url.searchParams.get('logs'));
            const record = id.length <= 100 ? await invocations.get(id) : undefined;
            let view: InvocationView;
            if (record) view = invocationView(record, (await history?.totalsOf([id]))?.get(id));
            else {
              // A queued (async, trigger) attempt whose invocation's record is gone (purged, its function removed) is not shown on its own.
              const past = id.length <= 100 ? await history?.get(id) : undefined;
              if (!past || past.source !== 'http') throw new NimbusError('INVOCATION_NOT_FOUND', `No invocation with id ${JSON.stringify(id.slice(0, 100))} is stored; it is unknown, or older than the platform keeps (nimbus up --retain).`);
              view = historyView(past);
            }
            if (withLogs) view.logs = (await logs.read(view.function, { invocationId: id })).map(logLineView);
            sendJson(res, 200, view);
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/dlq$/,
      methods: {
        DELETE: {
          scope: 'deploy',
          handle: async (_req, res, { name }) => {
            await deployed(name);
            const body: PurgeResult = { purged: await deadLetters.purge(name) };
            sendJson(res, 200, body);
          },
        },
      },
    },
    {
      pattern: /^\/api\/v1\/functions\/([^/]+)\/dlq\/redrive$/,
      methods: {
        POST: {
          scope: 'deploy',
          handle: async (req, res, { name }) => {
            await deployed(name);
            const body: RedriveResult = { redriven: await deadLetters.redrive(name, redriveTarget(await readJson(req))) };
            sendJson(res, 200, body);
          },
        },
      },
    },
  ];
}

/** The query of a listing, checked: INVALID_REQUEST naming the parameter otherwise. */
function listQuery(params: URLSearchParams, now: number): ListQuery {
  const invalid = (field: string, why: string) => new NimbusError('INVALID_REQUEST', `${field}: ${why}`, { details: { field } });
  const query: ListQuery = { limit: DEFAULT_LIMIT };
  const fn = params.get('function');
  if (fn !== null && fn !== '') {
    assertFunctionName(fn);
    query.function = fn;
  }
  const status = params.get('status');
  if (status !== null && status !== '') {
    if (!(INVOCATION_STATUSES as readonly string[]).includes(status)) throw invalid('status', `must be one of ${INVOCATION_STATUSES.join(', ')}`);
    query.status = status as InvocationStatus;
  }
  const source = params.get('source');
  if (source !== null && source !== '') {
    if (!(SOURCES as readonly string[]).includes(source)) throw invalid('source', `must be one of ${SOURCES.join(', ')}`);
    query.source = source as ListQuery['source'];
  }
  const since = timeParam(params, 'since', now);
  if (since !== undefined) query.since = since;
  const until = timeParam(params, 'until', now);
  if (until !== undefined) query.until = until;
  if (since !== undefined && until !== undefined && since > until) throw invalid('since', 'must not be later than until');
  const limit = params.get('limit');
  if (limit !== null && limit !== '') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw invalid('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
    query.limit = n;
  }
  const cursor = params.get('cursor');
  if (cursor !== null && cursor !== '') query.after = decodeCursor(cursor, () => invalid('cursor', 'is not a nextCursor this API answered'));
  return query;
}

/** Cursors are opaque to clients: base64url of `<createdAt>.<id>`. */
function encodeCursor(cursor: InvocationCursor): string {
  return Buffer.from(`${cursor.createdAt}.${cursor.id}`).toString('base64url');
}

function decodeCursor(text: string, invalid: () => NimbusError): InvocationCursor {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const dot = decoded.indexOf('.');
  const createdAt = Number(decoded.slice(0, dot));
  const id = decoded.slice(dot + 1);
  if (dot <= 0 || !Number.isSafeInteger(createdAt) || id === '' || id.length > 200) throw invalid();
  return { createdAt, id };
}

/** `?logs=`: true or 1 adds the invocation's log lines; false, 0 or absent does not. */
function logsWanted(value: string | null): boolean {
  if (value === null || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new NimbusError('INVALID_REQUEST', `logs must be true or false; got ${JSON.stringify(value.slice(0, 100))}.`, { details: { field: 'logs' } });
}
