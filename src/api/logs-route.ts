import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import { NimbusError } from '../core/errors.js';
import { parseDuration } from '../core/spec.js';
import { sendJson } from '../http/respond.js';
import type { LogBuffer, LogEntry } from '../telemetry/logs.js';
import type { LogLine, LogList } from './wire.js';

/** The wire form of a log entry. */
export function toWire(entry: LogEntry): LogLine {
  return {
    time: new Date(entry.time).toISOString(),
    function: entry.function,
    invocationId: entry.invocationId,
    stream: entry.stream,
    message: entry.message,
  };
}

/** Parses `since`: a duration back from now (`10m`) or an ISO timestamp. */
export function parseSince(value: string | null, now: number): number | undefined {
  if (value === null || value === '') return undefined;
  const ms = parseDuration(value);
  if (ms !== undefined) return now - ms;
  const at = Date.parse(value);
  if (Number.isNaN(at)) {
    throw new NimbusError('INVALID_REQUEST', `since must be a duration such as 10m or an ISO timestamp; got ${JSON.stringify(value)}.`, {
      details: { field: 'since' },
    });
  }
  return at;
}

function parseLimit(value: string | null): number | undefined {
  if (value === null) return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
    throw new NimbusError('INVALID_REQUEST', 'limit must be a whole number from 1 to 100000.', { details: { field: 'limit' } });
  }
  return limit;
}

/** An invocation id to search for: at most 100 characters (ids are UUIDs), else refused. */
export function parseInvocationId(value: string | null): string | undefined {
  if (value === null) return undefined;
  if (value === '' || value.length > 100) {
    throw new NimbusError('INVALID_REQUEST', 'invocation must be an invocation id (as x-nimbus-invocation-id shows it).', { details: { field: 'invocation' } });
  }
  return value;
}

/**
 * `GET /api/v1/functions/{name}/logs`: past entries as JSON (read from disk, so they outlive a
 * restart; `invocation=<id>` keeps that invocation's lines), or with follow=true an NDJSON stream.
 */
export async function serveLogs(req: IncomingMessage, res: ServerResponse, url: URL, name: string, logs: LogBuffer, clock: Clock): Promise<void> {
  const since = parseSince(url.searchParams.get('since'), clock.now());
  const limit = parseLimit(url.searchParams.get('limit'));
  const invocationId = parseInvocationId(url.searchParams.get('invocation'));
  const past = await logs.read(name, { ...(since !== undefined ? { since } : {}), ...(limit !== undefined ? { limit } : {}), ...(invocationId !== undefined ? { invocationId } : {}) });
  const follow = ['true', '1', ''].includes(url.searchParams.get('follow') ?? 'no');
  if (!follow) {
    sendJson(res, 200, { logs: past.map(toWire) } satisfies LogList);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache' });
  // Send the headers now: with no past entries nothing else would, and the client would wait.
  res.flushHeaders();
  for (const entry of past) res.write(`${JSON.stringify(toWire(entry))}\n`);
  const unsubscribe = logs.subscribe(name, (entry) => {
    if (invocationId === undefined || entry.invocationId === invocationId) res.write(`${JSON.stringify(toWire(entry))}\n`);
  });
  req.once('close', unsubscribe);
  res.once('close', unsubscribe);
}
