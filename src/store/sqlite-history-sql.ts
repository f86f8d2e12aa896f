/**
 * The schema and SQL of SqliteHistory (history.db). Every listing reads one of two indexes
 * (start time; function and start time); the ledger is keyed by function and hour, with an index
 * by hour for the reports and the sweep.
 */

/** `PRAGMA user_version` of the schema below; a newer file is refused rather than misread. */
export const HISTORY_SCHEMA_VERSION = 1;

export const HISTORY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    function TEXT NOT NULL,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    billed_ms INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    gb_seconds REAL NOT NULL,
    cpu_ms REAL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    cold INTEGER NOT NULL,
    queue_ms REAL NOT NULL,
    start_ms REAL NOT NULL,
    handler_ms REAL NOT NULL,
    outcome TEXT NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    error_code TEXT,
    PRIMARY KEY (id, attempt)
  );
  CREATE INDEX IF NOT EXISTS records_by_time ON records (started_at, id);
  CREATE INDEX IF NOT EXISTS records_by_function ON records (function, started_at, id);
  CREATE TABLE IF NOT EXISTS usage_hourly (
    function TEXT NOT NULL,
    hour INTEGER NOT NULL,
    invocations INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    gb_seconds REAL NOT NULL,
    cpu_seconds REAL NOT NULL,
    billed_ms INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    PRIMARY KEY (function, hour)
  );
  CREATE INDEX IF NOT EXISTS usage_by_hour ON usage_hourly (hour);
`;

export const RECORD_COLUMNS =
  'id, attempt, function, version, source, method, path, started_at, ended_at, duration_ms, billed_ms, memory_mb, gb_seconds, cpu_ms, bytes_in, bytes_out, cold, queue_ms, start_ms, handler_ms, outcome, status, http_status, error_code';

const FIGURES = 'SUM(invocations) AS invocations, SUM(errors) AS errors, SUM(gb_seconds) AS gbSeconds, SUM(cpu_seconds) AS cpuSeconds, SUM(billed_ms) AS billedMs, SUM(bytes_in) AS bytesIn, SUM(bytes_out) AS bytesOut';

export const HISTORY_SQL = {
  // Positional parameters (in RECORD_COLUMNS order): binding 24 named ones costs more than the
  // insert's own work. `changes` says whether the row was new: only new rows go into the ledger.
  insert: `INSERT INTO records (${RECORD_COLUMNS}) VALUES (${RECORD_COLUMNS.split(', ').map(() => '?').join(', ')}) ON CONFLICT (id, attempt) DO NOTHING`,
  addUsage: `
    INSERT INTO usage_hourly (function, hour, invocations, errors, gb_seconds, cpu_seconds, billed_ms, bytes_in, bytes_out)
    VALUES (@function, @hour, @invocations, @errors, @gbSeconds, @cpuSeconds, @billedMs, @bytesIn, @bytesOut)
    ON CONFLICT (function, hour) DO UPDATE SET
      invocations = invocations + excluded.invocations, errors = errors + excluded.errors,
      gb_seconds = gb_seconds + excluded.gb_seconds, cpu_seconds = cpu_seconds + excluded.cpu_seconds,
      billed_ms = billed_ms + excluded.billed_ms, bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out`,
  totals: `
    SELECT id, COUNT(*) AS attempts, SUM(duration_ms) AS durationMs, SUM(billed_ms) AS billedMs, MAX(memory_mb) AS memoryMb,
      SUM(gb_seconds) AS gbSeconds, SUM(cpu_ms) AS cpuMs, SUM(bytes_in) AS bytesIn, SUM(bytes_out) AS bytesOut
    FROM records WHERE id IN (SELECT value FROM json_each(?)) GROUP BY id`,
  lastAttempts: `
    SELECT r.id, r.cold, r.queue_ms, r.start_ms, r.handler_ms, r.source FROM records r
    WHERE r.id IN (SELECT value FROM json_each(?)) AND r.attempt = (SELECT MAX(attempt) FROM records x WHERE x.id = r.id)`,
  usageByFunction: `SELECT function AS key, ${FIGURES} FROM usage_hourly WHERE hour >= @since AND hour < @until AND (@function IS NULL OR function = @function) GROUP BY function ORDER BY function`,
  usageByHour: `SELECT hour AS key, ${FIGURES} FROM usage_hourly WHERE hour >= @since AND hour < @until AND (@function IS NULL OR function = @function) GROUP BY hour ORDER BY hour`,
  usageByDay: `SELECT hour - hour % 86400000 AS key, ${FIGURES} FROM usage_hourly WHERE hour >= @since AND hour < @until AND (@function IS NULL OR function = @function) GROUP BY key ORDER BY key`,
  get: `SELECT ${RECORD_COLUMNS} FROM records WHERE id = ? ORDER BY attempt DESC LIMIT 1`,
  sweepExpired: 'DELETE FROM records WHERE started_at < ?',
  deleteFunction: 'DELETE FROM records WHERE function = ?',
  count: 'SELECT COUNT(*) FROM records',
  sweepExcess: 'DELETE FROM records WHERE rowid IN (SELECT rowid FROM records ORDER BY started_at, id LIMIT ?)',
  sweepLedger: 'DELETE FROM usage_hourly WHERE hour < ?',
} as const;

/** The listing statement of one set of filters; parameters by name. */
export function historyListSql(filters: { function: boolean; status: boolean; since: boolean; until: boolean; after: boolean }): string {
  const where = [
    // The sources come as one JSON array, so any set of them is one statement.
    'source IN (SELECT value FROM json_each(@sources))',
    ...(filters.function ? ['function = @function'] : []),
    ...(filters.status ? ['status = @status'] : []),
    ...(filters.since ? ['started_at >= @since'] : []),
    ...(filters.until ? ['started_at <= @until'] : []),
    ...(filters.after ? ['(started_at < @afterStartedAt OR (started_at = @afterStartedAt AND id < @afterId))'] : []),
  ];
  return `SELECT ${RECORD_COLUMNS} FROM records WHERE ${where.join(' AND ')} ORDER BY started_at DESC, id DESC LIMIT @limit`;
}
