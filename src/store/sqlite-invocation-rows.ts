import type { ErrorCode } from '../core/errors.js';
import type { InvocationChanges, InvocationRecord, InvocationStatus, StoredResponse } from './invocation-types.js';

/** A value better-sqlite3 binds (it refuses booleans and undefined). */
export type SqlValue = string | number | Buffer | null;

/** Column values by column name: the full insert binds them by name (`@column`), updates by position. */
export type ColumnValues = Record<string, SqlValue>;

/** A row of `invocations` (migration 4) as SELECT answers it. */
export interface InvocationRow {
  id: string;
  function: string;
  version: number | null;
  status: string;
  attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  next_attempt_at: number | null;
  error_json: string | null;
  response_status: number | null;
  response_headers_json: string | null;
  response_body: Buffer | null;
  response_truncated: number | null;
  method: string;
  path: string;
  idempotency_key: string | null;
  trigger: string | null;
  /** Absent when the query leaves it out (listings). */
  request?: Buffer | null;
}

/** Every column but `request`: what a listing reads (requests are only needed for redrive). */
export const LISTED_COLUMNS =
  'id, function, version, status, attempts, created_at, started_at, finished_at, next_attempt_at, error_json, ' +
  'response_status, response_headers_json, response_body, response_truncated, method, path, idempotency_key, trigger';

export const ALL_COLUMNS = `${LISTED_COLUMNS}, request`;

/**
 * How each changeable field is written: the columns it sets and their values, undefined clearing
 * them. A mapped type over every key of {@link InvocationChanges}, so a field added there cannot
 * be forgotten here (it would not compile). Insert and update share these, so a field is stored
 * the same way by both.
 */
const WRITERS: { [K in keyof InvocationChanges]-?: (value: InvocationChanges[K]) => ColumnValues } = {
  version: (version) => ({ version: version ?? null }),
  status: (status) => ({ status: required('status', status) }),
  attempts: (attempts) => ({ attempts: required('attempts', attempts) }),
  startedAt: (at) => ({ started_at: at ?? null }),
  finishedAt: (at) => ({ finished_at: at ?? null }),
  nextAttemptAt: (at) => ({ next_attempt_at: at ?? null }),
  error: (error) => ({ error_json: error ? JSON.stringify({ code: error.code, message: error.message }) : null }),
  response: responseColumns,
  // Copied: a caller reusing its buffer after the call must not change what is (or will be) stored.
  request: (request) => ({ request: request ? Buffer.from(request) : null }),
};

const CHANGEABLE = Object.keys(WRITERS) as (keyof InvocationChanges)[];

/** The column values of a new record, every column present. */
export function insertValues(record: InvocationRecord): ColumnValues {
  const values: ColumnValues = {
    id: record.id,
    function: record.function,
    created_at: record.createdAt,
    method: record.method,
    path: record.path,
    idempotency_key: record.idempotencyKey ?? null,
    trigger: record.trigger ?? null,
  };
  for (const key of CHANGEABLE) Object.assign(values, writeField(key, record[key]));
  return values;
}

/**
 * The columns of a record as it is first stored (a just-accepted one sets no others): its insert
 * binds only these, by position; binding every column by name cost some 6 us more of the event
 * loop per accepted invocation (measured).
 */
export const NEW_RECORD_COLUMNS = ['id', 'function', 'status', 'attempts', 'created_at', 'method', 'path', 'idempotency_key', 'trigger'] as const;

/**
 * The values of {@link NEW_RECORD_COLUMNS} in order, when the record sets no other column;
 * undefined for a record stored later in its life (it needs {@link insertValues}).
 */
export function newRecordValues(record: InvocationRecord): SqlValue[] | undefined {
  const { version, startedAt, finishedAt, nextAttemptAt, error, response, request } = record;
  if ((version ?? startedAt ?? finishedAt ?? nextAttemptAt ?? error ?? response ?? request) !== undefined) return undefined;
  return [
    record.id,
    record.function,
    required('status', record.status),
    required('attempts', record.attempts),
    record.createdAt,
    record.method,
    record.path,
    record.idempotencyKey ?? null,
    record.trigger ?? null,
  ];
}

/**
 * The column values of `changes`: only the fields present as keys (`'key' in changes`), so a
 * field absent is kept and a field present as undefined is cleared. Keys that are not changeable
 * fields are ignored.
 */
export function changeValues(changes: InvocationChanges): ColumnValues {
  const values: ColumnValues = {};
  for (const key of CHANGEABLE) if (key in changes) Object.assign(values, writeField(key, changes[key]));
  return values;
}

export function toRecord(row: InvocationRow): InvocationRecord {
  // Fields without a value are left out (not set to undefined), like the other repositories do.
  // Buffers are not copied: better-sqlite3 makes a new one for every row it reads.
  return {
    id: row.id,
    function: row.function,
    ...(row.version === null ? {} : { version: row.version }),
    status: row.status as InvocationStatus,
    attempts: row.attempts,
    createdAt: row.created_at,
    ...(row.started_at === null ? {} : { startedAt: row.started_at }),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
    ...(row.next_attempt_at === null ? {} : { nextAttemptAt: row.next_attempt_at }),
    ...(row.error_json === null ? {} : { error: JSON.parse(row.error_json) as { code: ErrorCode; message: string } }),
    ...(row.response_status === null ? {} : { response: toResponse(row) }),
    method: row.method,
    path: row.path,
    ...(row.idempotency_key === null ? {} : { idempotencyKey: row.idempotency_key }),
    ...(row.trigger === null ? {} : { trigger: row.trigger }),
    ...(row.request ? { request: row.request } : {}),
  };
}

function writeField<K extends keyof InvocationChanges>(key: K, value: InvocationChanges[K]): ColumnValues {
  // TypeScript cannot tie WRITERS[key] to InvocationChanges[key] through a generic key; WRITERS's
  // own type checks each writer against its field.
  return (WRITERS[key] as (value: InvocationChanges[K]) => ColumnValues)(value);
}

function responseColumns(response: StoredResponse | undefined): ColumnValues {
  if (!response) return { response_status: null, response_headers_json: null, response_body: null, response_truncated: null };
  return {
    response_status: response.status,
    response_headers_json: JSON.stringify(response.headers),
    response_body: Buffer.from(response.body),
    response_truncated: response.truncated ? 1 : 0,
  };
}

function toResponse(row: InvocationRow): StoredResponse {
  return {
    status: row.response_status as number,
    headers: JSON.parse(row.response_headers_json ?? '{}') as StoredResponse['headers'],
    body: row.response_body ?? Buffer.alloc(0),
    truncated: row.response_truncated === 1,
  };
}

/** Status and attempts always have a value: clearing them is a caller's mistake, refused before SQL. */
function required<T extends string | number>(field: string, value: T | undefined): T {
  if (value === undefined) throw new TypeError(`invocation records always have ${field}: it cannot be cleared`);
  return value;
}
