import { NimbusError } from '../core/errors.js';
import type { PackageInfo } from './types.js';

/** Name of a single-file upload that came without a usable file name. */
export const DEFAULT_SINGLE_FILE = 'index.js';

/** Archive formats we recognise but do not accept, so users get a clear answer, not a broken `index.js`. */
const UNSUPPORTED: ReadonlyArray<{ name: string; magic: readonly number[]; offset?: number }> = [
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: '7z', magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c] },
  { name: 'rar', magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07] },
  // "ustar" in the header of a plain, uncompressed tar archive.
  { name: 'uncompressed tar', magic: [0x75, 0x73, 0x74, 0x61, 0x72], offset: 257 },
];

function startsWith(head: Buffer, magic: readonly number[], offset = 0): boolean {
  return head.length >= offset + magic.length && magic.every((byte, i) => head[offset + i] === byte);
}

/**
 * Detects the upload format from its first bytes: gzip -> `tar.gz`, a zip local file header (or
 * the end record of an empty zip) -> `zip`, anything else -> a single source `file`.
 *
 * @throws INVALID_ARCHIVE for other archive formats (bzip2, xz, zstd, 7z, rar, plain tar).
 */
export function sniffFormat(head: Buffer): PackageInfo['format'] {
  if (startsWith(head, [0x1f, 0x8b])) return 'tar.gz';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  const other = UNSUPPORTED.find((format) => startsWith(head, format.magic, format.offset));
  if (other) {
    throw new NimbusError(
      'INVALID_ARCHIVE',
      `The upload is a ${other.name} archive; Nimbus accepts tar.gz and zip. Repack it, e.g. \`tar czf fn.tgz -C <folder> .\` or \`zip -r fn.zip .\` inside the folder.`,
    );
  }
  return 'file';
}

/**
 * The name to store a single-file upload under: the hinted name, which must be a plain file
 * name (no directories), or `index.js` when none was given.
 *
 * @throws INVALID_REQUEST when the hint is not a plain file name.
 */
export function singleFileName(hint: string | undefined): string {
  if (hint === undefined || hint === '') return DEFAULT_SINGLE_FILE;
  const plain =
    !/[/\\\0]/.test(hint) && hint !== '.' && hint !== '..' && Buffer.byteLength(hint) <= 255 && hint.trim() === hint;
  if (!plain) {
    throw new NimbusError(
      'INVALID_REQUEST',
      `The file name ${JSON.stringify(hint.slice(0, 80))} is not usable: give a plain file name such as index.ts or handler.py, without directories.`,
      { details: { field: 'x-nimbus-filename' } },
    );
  }
  return hint;
}
