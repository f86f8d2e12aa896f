/**
 * The SQL of SqliteInvocations, apart from its control flow so the query plans can be checked:
 * test/store/sqlite-invocations.test.ts asks SQLite that no statement reads the whole table and
 * that only the merges below sort (what they sort is bounded by a page or by the excess being
 * removed). Every statement is written for one of the indexes of migrations 4 and 6.
 */
import { INVOCATION_STATUSES } from '../api/wire.js';
import { ALL_COLUMNS, LISTED_COLUMNS, NEW_RECORD_COLUMNS } from './sqlite-invocation-rows.js';

const INSERT_COLUMNS = ALL_COLUMNS.split(', ');

/** The sort key of listings, newest first (the order of the list indexes). */
const NEWEST_FIRST = 'ORDER BY created_at DESC, id DESC';

/** Which filters a listing has; each combination is its own statement (see listSql). */
export interface ListShape {
  function: boolean;
  status: boolean;
  after: boolean;
}

export const INVOCATION_SQL = {
  // An id already stored keeps its row (see InvocationRepository.create). Not INSERT OR IGNORE:
  // that would also skip, silently, a row breaking a NOT NULL or CHECK constraint.
  insert: `
    INSERT INTO invocations (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (id) DO NOTHING`,
  // The same for a record that sets only the columns of a new one, bound by position.
  insertNew: `
    INSERT INTO invocations (${NEW_RECORD_COLUMNS.join(', ')}) VALUES (${NEW_RECORD_COLUMNS.map(() => '?').join(', ')})
    ON CONFLICT (id) DO NOTHING`,
  get: `SELECT ${ALL_COLUMNS} FROM invocations WHERE id = ?`,
  exists: 'SELECT 1 FROM invocations WHERE id = ?',
  idempotent: `
    SELECT id FROM invocations
    WHERE function = ? AND idempotency_key = ? AND created_at >= ? ${NEWEST_FIRST} LIMIT 1`,
  listDead: `SELECT ${ALL_COLUMNS} FROM invocations WHERE function = ? AND status = 'dead' ORDER BY created_at, id`,
  // The ids come as one JSON array, so any number of them is one statement.
  listDeadIds: `
    SELECT ${ALL_COLUMNS} FROM invocations
    WHERE function = ? AND status = 'dead' AND id IN (SELECT value FROM json_each(?)) ORDER BY created_at, id`,
  purgeDead: `DELETE FROM invocations WHERE function = ? AND status = 'dead'`,
  deleteFunction: 'DELETE FROM invocations WHERE function = ?',
  countAll: 'SELECT status, COUNT(*) AS count FROM invocations GROUP BY status',
  countOf: 'SELECT status, COUNT(*) AS count FROM invocations WHERE function = ? GROUP BY status',

  // --- retention (sweep) ---
  sweepExpired: `DELETE FROM invocations WHERE status IN ('succeeded', 'failed') AND finished_at < ?`,
  countEnded: `SELECT COUNT(*) FROM invocations WHERE status IN ('succeeded', 'failed')`,
  // The `@excess` earliest finished ended records. Each status's earliest are read in index order,
  // at most `@excess` of each, and merged: sorting every ended record to find the few would read
  // them all. `finished_at IS NOT NULL` lets the partial index answer (every ended record has it).
  sweepExcessEnded: `
    DELETE FROM invocations WHERE rowid IN (
      SELECT rowid FROM (
        SELECT * FROM (SELECT rowid, finished_at FROM invocations WHERE status = 'succeeded' AND finished_at IS NOT NULL ORDER BY finished_at, rowid LIMIT @excess)
        UNION ALL
        SELECT * FROM (SELECT rowid, finished_at FROM invocations WHERE status = 'failed' AND finished_at IS NOT NULL ORDER BY finished_at, rowid LIMIT @excess)
      ) ORDER BY finished_at, rowid LIMIT @excess
    )`,
  // Dead letters beyond the newest `?` (maxDeadPerFunction) of their function. Reads and sorts
  // only dead rows, which this very rule keeps few.
  sweepExcessDead: `
    DELETE FROM invocations WHERE rowid IN (
      SELECT rowid FROM (
        SELECT rowid, ROW_NUMBER() OVER (PARTITION BY function ${NEWEST_FIRST}) AS newer
        FROM invocations WHERE status = 'dead'
      ) WHERE newer > ?
    )`,
} as const;

/**
 * The listing statement of one shape. Parameters, by name: `function`, `status`, `afterCreatedAt`
 * and `afterId` (those of the shape) and `limit`.
 */
export function listSql(shape: ListShape): string {
  if (!shape.status) return mergedStatusesSql(shape.function, shape.after);
  const where = [
    ...(shape.function ? ['function = @function'] : []),
    ...(shape.status ? ['status = @status'] : []),
    ...(shape.after ? [AFTER_CURSOR] : []),
  ];
  const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
  return `SELECT ${LISTED_COLUMNS} FROM invocations ${filter} ${NEWEST_FIRST} LIMIT @limit`;
}

/**
 * Keyset: strictly after (created_at, id) in newest-first order. Written as a range on created_at
 * (which the index seeks) narrowed by id on the cursor's own millisecond.
 */
const AFTER_CURSOR = 'created_at <= @afterCreatedAt AND (created_at < @afterCreatedAt OR id < @afterId)';

/**
 * A listing of all statuses, of one function or of all: no index leads with (created_at) or
 * (function, created_at) (see migrations 4 and 6: each index is paid on every accept), so the
 * newest `@limit` of each status are read from (function, status, created_at, id) or (status,
 * created_at, id), merged, and only the rows of the page are then read from the table.
 */
function mergedStatusesSql(ofFunction: boolean, after: boolean): string {
  const filter = `${ofFunction ? 'function = @function AND ' : ''}status = `;
  const cursor = after ? ` AND ${AFTER_CURSOR}` : '';
  const perStatus = INVOCATION_STATUSES.map(
    (status) => `SELECT * FROM (SELECT rowid, created_at, id FROM invocations WHERE ${filter}'${status}'${cursor} ${NEWEST_FIRST} LIMIT @limit)`,
  );
  return `
    SELECT ${LISTED_COLUMNS} FROM invocations WHERE rowid IN (
      SELECT rowid FROM (${perStatus.join(' UNION ALL ')}) ${NEWEST_FIRST} LIMIT @limit
    ) ${NEWEST_FIRST}`;
}

/** Every listing shape, for preparing or checking them all. */
export const LIST_SHAPES: readonly ListShape[] = [false, true].flatMap((fn) =>
  [false, true].flatMap((status) => [false, true].map((after) => ({ function: fn, status, after }))),
);

/** The key of a shape in a statement cache. */
export function shapeKey(shape: ListShape): string {
  return `${Number(shape.function)}${Number(shape.status)}${Number(shape.after)}`;
}
