/**
 * The schema and SQL of SqliteHistory (history.db). Records are kept in segments: one row per
 * function per written batch, its records packed (src/store/record-batch.ts) in a segment file. Segments are
 * found by their newest start time, overall or per function; a record by its id through
 * `record_ids`. The ledger is keyed by function and hour, with an index by hour for the reports
 * and the sweep.
 */

/** `PRAGMA user_version` of the schema below; a newer file is refused rather than misread. */
export const HISTORY_SCHEMA_VERSION = 2;

export const HISTORY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS segments (
    seq INTEGER PRIMARY KEY,
    function TEXT NOT NULL,
    first_started INTEGER NOT NULL,
    last_started INTEGER NOT NULL,
    count INTEGER NOT NULL,
    -- How many of the records failed, and a bit per source present (SOURCE_BITS): listings with
    -- those filters skip segments that cannot match without reading their records.
    failed INTEGER NOT NULL,
    sources INTEGER NOT NULL,
    -- The lowest and highest id of the records found by id range (sync invocations' UUIDv7 ids,
    -- which sort by time): they have no record_ids row. NULL when the segment has none.
    min_id TEXT,
    max_id TEXT,
    -- Where the records are, as a RecordBatch (src/store/record-batch.ts): its numbers' bytes,
    -- then its text's, at offset in history-segments/<file>.seg; its dictionary here.
    file INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    numbers_bytes INTEGER NOT NULL,
    text_bytes INTEGER NOT NULL,
    dict TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS segments_by_time ON segments (last_started);
  CREATE INDEX IF NOT EXISTS segments_by_function ON segments (function, last_started);
  CREATE INDEX IF NOT EXISTS segments_by_first ON segments (first_started);
  CREATE INDEX IF NOT EXISTS segments_by_id ON segments (min_id, max_id) WHERE min_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS segments_by_file ON segments (file);
  CREATE TABLE IF NOT EXISTS record_ids (
    id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    PRIMARY KEY (id, attempt)
  ) WITHOUT ROWID;
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

/** The bit of each source in `segments.sources`. */
export const SOURCE_BITS = { http: 1, async: 2, trigger: 4 } as const;

const FIGURES = 'SUM(invocations) AS invocations, SUM(errors) AS errors, SUM(gb_seconds) AS gbSeconds, SUM(cpu_seconds) AS cpuSeconds, SUM(billed_ms) AS billedMs, SUM(bytes_in) AS bytesIn, SUM(bytes_out) AS bytesOut';
const SEGMENT = 'seq, function, first_started, last_started, count, file, offset, numbers_bytes, text_bytes, dict';

export const HISTORY_SQL = {
  nextSeq: 'SELECT COALESCE(MAX(seq), 0) + 1 FROM segments',
  // `changes` says whether the record was new: only new records go into a segment and the ledger.
  insertId: 'INSERT INTO record_ids (id, attempt, seq, pos) VALUES (?, ?, ?, ?) ON CONFLICT (id, attempt) DO NOTHING',
  insertSegment:
    'INSERT INTO segments (seq, function, first_started, last_started, count, failed, sources, min_id, max_id, file, offset, numbers_bytes, text_bytes, dict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  oldestFile: 'SELECT MIN(file) FROM segments',
  // The segments whose id range holds @id, among those whose range starts no earlier than @floor.
  segmentsHoldingId: 'SELECT seq FROM segments WHERE min_id >= @floor AND min_id <= @id AND max_id >= @id',
  addUsage: `
    INSERT INTO usage_hourly (function, hour, invocations, errors, gb_seconds, cpu_seconds, billed_ms, bytes_in, bytes_out)
    VALUES (@function, @hour, @invocations, @errors, @gbSeconds, @cpuSeconds, @billedMs, @bytesIn, @bytesOut)
    ON CONFLICT (function, hour) DO UPDATE SET
      invocations = invocations + excluded.invocations, errors = errors + excluded.errors,
      gb_seconds = gb_seconds + excluded.gb_seconds, cpu_seconds = cpu_seconds + excluded.cpu_seconds,
      billed_ms = billed_ms + excluded.billed_ms, bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out`,
  lastAttempt: 'SELECT seq, pos FROM record_ids WHERE id = ? ORDER BY attempt DESC LIMIT 1',
  attemptsOf: 'SELECT id, attempt, seq, pos FROM record_ids WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id, attempt',
  segment: `SELECT ${SEGMENT} FROM segments WHERE seq = ?`,
  segmentsOf: 'SELECT seq FROM segments WHERE function = ?',
  expiredSegments: 'SELECT seq FROM segments WHERE first_started < ?',
  oldestSegments: 'SELECT seq FROM segments ORDER BY first_started, seq LIMIT ?',
  recordCount: 'SELECT COALESCE(SUM(count), 0) FROM segments',
  deleteSegment: 'DELETE FROM segments WHERE seq = ?',
  deleteId: 'DELETE FROM record_ids WHERE id = ? AND attempt = ?',
  moveId: 'UPDATE record_ids SET pos = ? WHERE id = ? AND attempt = ?',
  usageByFunction: `SELECT function AS key, ${FIGURES} FROM usage_hourly WHERE hour >= @since AND hour < @until AND (@function IS NULL OR function = @function) GROUP BY function ORDER BY function`,
  usageByHour: `SELECT hour AS key, ${FIGURES} FROM usage_hourly WHERE hour >= @since AND hour < @until AND (@function IS NULL OR function = @function) GROUP BY hour ORDER BY hour`,
  usageByDay: `SELECT hour - hour % 86400000 AS key, ${FIGURES} FROM usage_hourly WHERE hour >= @since AND hour < @until AND (@function IS NULL OR function = @function) GROUP BY key ORDER BY key`,
  sweepLedger: 'DELETE FROM usage_hourly WHERE hour < ?',
} as const;

/**
 * The segments a listing reads, newest first by their newest record; parameters by name. A segment
 * qualifies when its time span meets the asked one and it holds a record of an asked source (and
 * status); its records are then filtered one by one.
 */
export function historyListSql(filters: { function: boolean; status: 'succeeded' | 'failed' | undefined; since: boolean; upper: boolean }): string {
  const where = [
    'sources & @sources != 0',
    ...(filters.function ? ['function = @function'] : []),
    ...(filters.status === 'failed' ? ['failed > 0'] : filters.status === 'succeeded' ? ['failed < count'] : []),
    ...(filters.since ? ['last_started >= @since'] : []),
    ...(filters.upper ? ['first_started <= @upper'] : []),
  ];
  return `SELECT ${SEGMENT} FROM segments WHERE ${where.join(' AND ')} ORDER BY last_started DESC, seq DESC`;
}
