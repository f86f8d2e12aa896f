/**
 * Schema of the queue's own database file (`<dataDir>/queue.db`), applied with the store's
 * `migrate` (PRAGMA user_version counts the migrations run). Append only, as in the store.
 */
export const QUEUE_MIGRATIONS: readonly string[] = [
  // 1: the items. One row per queued item; `seq` (the rowid) keeps enqueue order among items due
  // at the same time. `due_at` is when the item may next be leased: its notBefore, its retry time,
  // or, while leased, its lease's expiry. So an unsettled lease needs no sweeper and no recovery
  // after a restart: the row simply falls due again when the lease expires (at-least-once).
  // `lease_token` is the current delivery's token (NULL when not leased); a settle must match it.
  // `attempt` counts deliveries so far.
  `
  CREATE TABLE queue_items (
    seq         INTEGER NOT NULL PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    partition   TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    attempt     INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    lease_token TEXT,
    enqueued_at INTEGER NOT NULL
  ) STRICT;
  -- lease: the oldest due items of one partition (the rowid, appended to every index, orders ties);
  -- also the skip-scan that lists the partitions, and remove(partition).
  CREATE INDEX queue_items_due ON queue_items (partition, due_at);
  -- the in-flight count per partition, without reading its whole backlog.
  CREATE INDEX queue_items_leased ON queue_items (partition, due_at) WHERE lease_token IS NOT NULL;
  `,
];
