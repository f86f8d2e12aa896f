/**
 * The thread of a {@link WalCheckpointer}: its own connection to one SQLite file, which copies the
 * WAL's committed pages into the database (a PASSIVE checkpoint: it never waits for, nor blocks,
 * the writer) each time the owner asks, and answers what it did.
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

/** What the owner passes in `workerData`. */
export interface CheckpointWorkerData {
  file: string;
}

/** The answer to one request: frames in the WAL and frames checkpointed, or why it failed. */
export type CheckpointReply = { ok: true; log: number; checkpointed: number } | { ok: false; error: string };

const port = parentPort!;
const { file } = workerData as CheckpointWorkerData;
const db = new BetterSqlite3(file, { fileMustExist: true });
// NORMAL, as the writer's connection: the WAL is synced before a checkpoint copies it and the
// database after, so a checkpoint never makes a commit less durable than it was.
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 1000');

port.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  let reply: CheckpointReply;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    reply = { ok: true, log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
