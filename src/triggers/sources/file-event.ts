import { createHash } from 'node:crypto';
import path from 'node:path';
import type { TriggerEvent } from '../types.js';
import type { FileEntry } from './file-index.js';
import type { FileEventKind } from './file-settings.js';

/** The JSON body of a file event: the file's metadata, never its content (see docs/triggers-sources.md). */
export interface FileEventData {
  kind: FileEventKind;
  /** Absolute path of the file. */
  path: string;
  /** Path relative to the watched directory, `/`-separated (also the event's subject). */
  name: string;
  /** Size in bytes; for `deleted`, the last size seen. */
  size: number;
  /** Modification time (RFC 3339); for `deleted`, the last one seen. */
  mtime: string;
}

/**
 * The CloudEvent for one change of one file. Its id is a hash of path, kind, size and mtime, so
 * the same change found again (after a crash, before the index was saved) has the same id and the
 * sink recognises it; a later change of the same file has another.
 */
export function fileEvent(change: { kind: FileEventKind; root: string; name: string; entry: FileEntry }, where: { host: string; now: number }): TriggerEvent {
  const { kind, root, name, entry } = change;
  const mtime = new Date(entry.mtimeMs).toISOString();
  const data: FileEventData = { kind, path: path.join(root, ...name.split('/')), name, size: entry.size, mtime };
  return {
    id: createHash('sha256').update(`${name}\0${kind}\0${entry.size}\0${entry.mtimeMs}`).digest('hex').slice(0, 32),
    type: `dev.nimbus.file.${kind}`,
    source: fileSourceUri(where.host, root),
    subject: name,
    // A deletion has no time of its own on disk: it happened when it was seen.
    time: kind === 'deleted' ? where.now : Math.floor(entry.mtimeMs),
    contentType: 'application/json',
    data: Buffer.from(JSON.stringify(data)),
    extensions: { filesize: String(entry.size), filemtime: mtime },
  };
}

/** `file://<host>/<dir>` (RFC 8089), the directory percent-encoded where a URI needs it. */
export function fileSourceUri(host: string, root: string): string {
  return `file://${host}${root.split('/').map(encodeURIComponent).join('/')}`;
}
