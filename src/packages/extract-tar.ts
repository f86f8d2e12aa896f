import { createReadStream } from 'node:fs';
import { Parser, type ReadEntry } from 'tar';
import { isNimbusError, NimbusError } from '../core/errors.js';
import { Abort } from './abortable.js';
import { unsafeSpecialFile } from './entry-path.js';
import type { AdmittedEntry, TreeWriter } from './tree-writer.js';

/**
 * Unpacks the tar.gz archive `file` through `writer`. node-tar's own extractor repairs unsafe
 * entries (strips `/`, skips `..`) with only a warning; we parse with its strict Parser and
 * decide about every entry ourselves, so one bad entry fails the whole upload.
 *
 * Entries are written one at a time, in archive order (hard links refer to earlier entries).
 */
export function extractTarGz(file: string, writer: TreeWriter): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = new Abort();
    const parser = new Parser({ strict: true });
    const source = createReadStream(file);
    let queue: Promise<void> = Promise.resolve();

    const fail = (err: unknown): void => {
      if (!abort.fail(err)) return;
      source.destroy();
      // Settle only when the entry being written has stopped, so the caller can delete the tree.
      void queue.then(
        () => reject(err),
        () => reject(err),
      );
    };

    parser.on('entry', (entry: ReadEntry) => {
      let admitted: AdmittedEntry;
      try {
        if (abort.failed) throw abort.error;
        admitted = writer.admit(entry.path);
        checkType(entry);
      } catch (err) {
        entry.resume();
        fail(err);
        return;
      }
      queue = queue.then(() => (abort.failed ? undefined : writeEntry(writer, admitted, entry, abort)));
      queue.catch(fail);
    });
    // Unknown entry types, and metadata entries too large to parse: node-tar would skip them.
    parser.on('ignoredEntry', (entry: ReadEntry) => fail(unsupportedType(entry)));
    parser.on('error', (err: unknown) => fail(tarError(err)));
    parser.on('end', () => {
      void queue.then(() => {
        if (!abort.failed) resolve();
      }, fail);
    });
    source.on('error', fail);
    source.pipe(parser);
  });
}

/** Refuses, before any work is queued, entry types a package may not contain. */
function checkType(entry: ReadEntry): void {
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
    case 'Directory':
    case 'GNUDumpDir':
    case 'SymbolicLink':
    case 'Link':
      return;
    case 'CharacterDevice':
    case 'BlockDevice':
    case 'FIFO':
      return unsafeSpecialFile(entry.path, entry.type);
    default:
      throw unsupportedType(entry);
  }
}

function unsupportedType(entry: ReadEntry): NimbusError {
  return new NimbusError('INVALID_ARCHIVE', `Archive entry ${JSON.stringify(entry.path)} has a type Nimbus does not accept (${entry.type}); repack the folder with a standard tar.`, {
    details: { entry: entry.path },
  });
}

async function writeEntry(writer: TreeWriter, admitted: AdmittedEntry, entry: ReadEntry, abort: Abort): Promise<void> {
  switch (entry.type) {
    case 'SymbolicLink':
      entry.resume();
      return writer.symlink(admitted, entry.linkpath ?? '');
    case 'Link':
      entry.resume();
      return writer.hardlink(admitted, entry.linkpath ?? '');
    case 'Directory':
    case 'GNUDumpDir':
      // A GNU dump directory carries a listing as its body: not needed, discard it.
      entry.resume();
      return writer.directory(admitted);
    default:
      return writer.file(admitted, entry.mode, abort.chunks(entry), entry.size);
  }
}

/** Maps node-tar and zlib failures to a platform error saying what to do. */
function tarError(err: unknown): NimbusError {
  if (isNimbusError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('max decompression ratio exceeded')) {
    return new NimbusError(
      'ARCHIVE_TOO_LARGE',
      'The archive expands more than 1000-fold when decompressed, which is how decompression bombs look; it was refused. Leave large repetitive files (e.g. sparse data) out of the package.',
      { cause: err },
    );
  }
  return new NimbusError(
    'INVALID_ARCHIVE',
    `The upload starts like a tar.gz archive but cannot be read (${message.replace(/^TAR_\w+: /, '')}). Check that the file is complete, or re-create it with \`tar czf fn.tgz -C <folder> .\`.`,
    { cause: err },
  );
}
