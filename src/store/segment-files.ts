import { closeSync, mkdirSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A file is closed for appending once it holds this much; the next segment starts a new one. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const SUFFIX = '.seg';

/** Where a segment's bytes are. */
export interface SegmentPlace {
  file: number;
  offset: number;
}

/**
 * The bytes of history segments, in append-only files (`<dir>/<n>.seg`) beside history.db, which
 * keeps where each segment is. Appending a batch's bytes to a file costs one copy into the page
 * cache; as a blob in the database they were copied into pages, into the WAL and back at the
 * checkpoint, which on a small machine cost the writer more than the rest of a batch.
 *
 * One instance appends (the history thread's), always to files it created: its first append
 * starts a file numbered after every existing one. Bytes whose row was never committed (a crash
 * between the two) or whose segment was removed stay until their whole file is removed: files
 * are removed oldest first, once no segment lives in them ({@link removeBelow}).
 */
export class SegmentFiles {
  private current: { file: number; fd: number; size: number } | undefined;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Appends `parts` one after the other; answers where they start. */
  append(parts: readonly Uint8Array[]): SegmentPlace {
    let current = this.current;
    if (!current || current.size >= MAX_FILE_BYTES) {
      if (current) closeSync(current.fd);
      const file = Math.max(0, ...this.files()) + 1;
      current = this.current = { file, fd: openSync(this.path(file), 'wx', 0o600), size: 0 };
    }
    const place = { file: current.file, offset: current.size };
    for (const part of parts) {
      for (let done = 0; done < part.byteLength; ) done += writeSync(current.fd, part, done, part.byteLength - done, current.size + done);
      current.size += part.byteLength;
    }
    return place;
  }

  /** `length` bytes at `place`. @throws when the file is gone or shorter (a power cut lost them). */
  read(place: SegmentPlace, length: number): Buffer {
    const fd = openSync(this.path(place.file), 'r');
    try {
      const bytes = Buffer.allocUnsafe(length);
      for (let done = 0; done < length; ) {
        const read = readSync(fd, bytes, done, length - done, place.offset + done);
        if (read === 0) throw new Error(`history segment file ${place.file} ends before the segment at ${place.offset} does`);
        done += read;
      }
      return bytes;
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the files numbered below `file` (no segment lives in them any more). Answers how many. */
  removeBelow(file: number): number {
    let removed = 0;
    for (const n of this.files()) {
      if (n >= file || n === this.current?.file) continue;
      unlinkSync(this.path(n));
      removed++;
    }
    return removed;
  }

  /** Stops appending (the file stays). */
  close(): void {
    if (this.current) closeSync(this.current.fd);
    this.current = undefined;
  }

  /** The numbers of the files there are. */
  files(): number[] {
    return readdirSync(this.dir)
      .filter((name) => name.endsWith(SUFFIX))
      .map((name) => Number(name.slice(0, -SUFFIX.length)))
      .filter((n) => Number.isInteger(n) && n > 0);
  }

  private path(file: number): string {
    return join(this.dir, `${file}${SUFFIX}`);
  }
}
