import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { NimbusError } from '../core/errors.js';

/** What spooling an upload learned about it. */
export interface SpooledUpload {
  /** Hex sha256 of all bytes. */
  sha256: string;
  size: number;
  /** The first bytes, for format detection. */
  head: Buffer;
}

/** How many leading bytes to keep for format detection (covers the tar magic at offset 257). */
const HEAD_BYTES = 512;

/**
 * Writes `body` to `file` (which must not exist) while hashing and counting it.
 *
 * Past `maxBytes` it fails with ARCHIVE_TOO_LARGE at once. The body is then not destroyed but
 * resumed and discarded, so the caller (an HTTP handler) can still answer 413; it should close
 * the connection rather than wait for the rest. The partial file is closed before the promise
 * settles, so the caller may delete it straight away.
 */
export function spoolUpload(body: Readable, file: string, maxBytes: number): Promise<SpooledUpload> {
  return new Promise((resolve, reject) => {
    // Gone before we got to it (e.g. the client hung up while a work dir was made).
    if (body.destroyed || body.readableEnded) {
      reject(interrupted(body.errored));
      return;
    }
    const out = createWriteStream(file, { flags: 'wx' });
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let headBytes = 0;
    let size = 0;
    let settled = false;

    const detach = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onBodyError);
      body.off('close', onClose);
      out.off('error', fail);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      detach();
      if (!body.destroyed) {
        // Discarding the rest: an error while draining (client gone) is no longer anyone's concern.
        body.on('error', () => {});
        body.resume();
      }
      if (out.closed) reject(err);
      else {
        out.once('close', () => reject(err));
        out.destroy();
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        fail(
          new NimbusError(
            'ARCHIVE_TOO_LARGE',
            `The upload is larger than the ${formatBytes(maxBytes)} limit. Leave build output, tests and other files the function does not need out of the package, or raise the limit.`,
            { details: { limitBytes: maxBytes } },
          ),
        );
        return;
      }
      hash.update(chunk);
      if (headBytes < HEAD_BYTES) {
        head.push(chunk.subarray(0, HEAD_BYTES - headBytes));
        headBytes += Math.min(chunk.length, HEAD_BYTES - headBytes);
      }
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => {
          if (!settled) body.resume();
        });
      }
    };
    const onEnd = (): void => {
      if (settled) return;
      settled = true;
      detach();
      out.once('error', reject);
      out.once('close', () => resolve({ sha256: hash.digest('hex'), size, head: Buffer.concat(head) }));
      out.end();
    };
    const onBodyError = (err: unknown): void => fail(interrupted(err));
    // A client that disconnects mid-upload may only produce 'close' without 'end'.
    const onClose = (): void => fail(interrupted(undefined));

    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onBodyError);
    body.once('close', onClose);
    // A disk error is the platform's problem, not the upload's: pass it on as it is.
    out.once('error', fail);
  });
}

function interrupted(cause: unknown): NimbusError {
  return new NimbusError('INVALID_REQUEST', 'The upload was interrupted before it was complete; upload the package again.', {
    cause,
  });
}

/** `52428800` -> `50 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
