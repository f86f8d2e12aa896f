import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { isNimbusError, NimbusError } from '../core/errors.js';
import { unsafeSpecialFile } from './entry-path.js';
import { errorCode } from './fs-util.js';
import { tooManyEntries, type TreeWriter } from './tree-writer.js';

/** Unix file types, from the upper 16 bits of a zip entry's external attributes. */
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const SPECIAL_TYPES: Record<number, string> = {
  0o010000: 'FIFO',
  0o020000: 'CharacterDevice',
  0o060000: 'BlockDevice',
  0o140000: 'Socket',
};
/** "Made by" host id of Unix in a zip entry; only those carry meaningful mode bits. */
const HOST_UNIX = 3;
/** Symlink targets are short paths; a longer "target" is not a real link. */
const MAX_LINK_TARGET = 4096;

/**
 * Unpacks the zip archive `file` through `writer`, one entry at a time. The entry count is
 * known from the central directory, so too many entries are refused before anything is read.
 * yauzl checks that each entry's data matches its recorded size (a "lying" zip fails), and the
 * writer independently counts the bytes actually written.
 */
export async function extractZip(file: string, writer: TreeWriter, maxEntries: number): Promise<void> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, validateEntrySizes: true, autoClose: true, decodeStrings: true });
  } catch (err) {
    throw zipError(err);
  }
  try {
    if (zip.entryCount > maxEntries) throw tooManyEntries(maxEntries);
    for await (const entry of zip.eachEntry()) await writeEntry(zip, entry, writer);
  } catch (err) {
    throw zipError(err);
  } finally {
    zip.close();
  }
}

async function writeEntry(zip: ZipFile, entry: Entry, writer: TreeWriter): Promise<void> {
  const admitted = writer.admit(entry.fileName);
  const mode = entry.versionMadeBy >> 8 === HOST_UNIX ? entry.externalFileAttributes >>> 16 : 0;
  const type = mode & S_IFMT;
  if (entry.fileName.endsWith('/') || type === S_IFDIR) return writer.directory(admitted);
  const special = SPECIAL_TYPES[type];
  if (special) return unsafeSpecialFile(entry.fileName, special);
  if (type !== 0 && type !== S_IFREG && type !== S_IFLNK) {
    throw new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(entry.fileName)} has an unknown file type; repack the folder with a standard zip tool.`);
  }
  if (entry.isEncrypted()) {
    throw new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(entry.fileName)} is encrypted; upload an archive without a password.`);
  }
  if (type === S_IFLNK) {
    if (entry.uncompressedSize > MAX_LINK_TARGET) {
      throw new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(entry.fileName)} is marked as a link but its target is ${entry.uncompressedSize} bytes long; repack the folder.`);
    }
    return writer.symlink(admitted, (await readAll(await openEntry(zip, entry))).toString('utf8'));
  }
  const stream = await openEntry(zip, entry);
  try {
    await writer.file(admitted, mode, stream, entry.uncompressedSize);
  } finally {
    // A refused entry's stream may be unread; it holds the zip file open until destroyed.
    stream.destroy();
  }
}

/**
 * Opens an entry's data. yauzl's size check can emit its error more than once (once per extra
 * chunk); the first reaches our reader, and a no-op listener keeps later ones from becoming an
 * uncaught exception that would take the platform down.
 */
async function openEntry(zip: ZipFile, entry: Entry): Promise<Readable> {
  const stream = await zip.openReadStreamPromise(entry);
  stream.on('error', () => undefined);
  return stream;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Maps yauzl and zlib failures (plain Errors with a message) to a platform error. */
function zipError(err: unknown): unknown {
  if (isNimbusError(err)) return err;
  const code = errorCode(err);
  // A filesystem error on our own temp files is the platform's problem, not the upload's.
  if (!(err instanceof Error) || (code !== undefined && !code.startsWith('Z_'))) return err;
  const unsafe = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/s.exec(err.message);
  if (unsafe) {
    const why = unsafe[1] === 'absolute path' ? 'has an absolute path' : unsafe[1] === 'invalid relative path' ? 'has a `..` segment that points outside the package' : 'contains a backslash (Windows path separator)';
    return new NimbusError('UNSAFE_ARCHIVE_PATH', `Archive entry ${JSON.stringify(unsafe[2])} ${why}; nothing was stored. Create the archive from inside the function folder, e.g. \`cd myfn && zip -r ../fn.zip .\`.`, {
      cause: err,
      details: { entry: unsafe[2] },
    });
  }
  if (/bytes in the stream|size mismatch/.test(err.message)) {
    return new NimbusError('INVALID_ARCHIVE', `The zip archive is damaged or forged: an entry's data does not match its recorded size (${err.message}). Re-create it with \`zip -r\`.`, { cause: err });
  }
  return new NimbusError('INVALID_ARCHIVE', `The upload starts like a zip archive but cannot be read (${err.message}). Check that the file is complete, or re-create it with \`zip -r\`.`, { cause: err });
}
