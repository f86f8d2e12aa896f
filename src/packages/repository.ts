import { createReadStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NimbusError, toNimbusError } from '../core/errors.js';
import { extractTarGz } from './extract-tar.js';
import { extractZip } from './extract-zip.js';
import { exists, makeWorkDir, publishDir, removeTree } from './fs-util.js';
import { singleFileName, sniffFormat } from './sniff.js';
import { spoolUpload } from './spool.js';
import { assertLinksInside, packageRoot, summariseTree, type TreeSummary } from './tree.js';
import { DIR_MODE, TreeWriter } from './tree-writer.js';
import { DEFAULT_PACKAGE_LIMITS, type PackageInfo, type PackageLimits, type PackageRepository, type UploadHints } from './types.js';

const SHA256 = /^[a-f0-9]{64}$/;

/**
 * Packages on the local filesystem:
 * - `<dataDir>/packages/<sha256>/` is the unpacked, checked tree of one upload, never modified;
 * - `<dataDir>/tmp/` holds work in progress, on the same filesystem, so a checked tree is
 *   published with one atomic rename and a failed upload leaves nothing anywhere.
 *
 * Checks, all before anything is published: known format; no absolute paths or `..`
 * (UNSAFE_ARCHIVE_PATH); symlinks and hard links must stay inside the package, device files and
 * FIFOs are refused (UNSAFE_ARCHIVE_LINK); limits on upload size, unpacked bytes actually
 * written (ARCHIVE_TOO_LARGE) and entry count (ARCHIVE_TOO_MANY_ENTRIES); at least one regular
 * file (EMPTY_PACKAGE). Modes are normalised: directories 0755, files 0644, or 0755 when the
 * archive marked them executable.
 *
 * When an archive's root holds a single directory and nothing else, that directory becomes the
 * package root, so `tar czf fn.tgz myfn/` works like `tar czf fn.tgz -C myfn .`. Links are
 * checked in that final tree: one that climbs out of the stripped directory is refused.
 */
export class FsPackageRepository implements PackageRepository {
  private readonly packagesDir: string;
  private readonly tmpDir: string;
  private readonly limits: PackageLimits;

  constructor(dataDir: string, limits: Partial<PackageLimits> = {}) {
    this.packagesDir = join(dataDir, 'packages');
    this.tmpDir = join(dataDir, 'tmp');
    this.limits = { ...DEFAULT_PACKAGE_LIMITS, ...limits };
  }

  async ingest(body: Readable, hints: UploadHints): Promise<PackageInfo> {
    // Body errors are handled by spoolUpload (by listener, or via `body.errored` when it comes
    // too late); this keeps one raised before spooling starts from crashing the process.
    body.on('error', () => {});
    const work = await makeWorkDir(this.tmpDir, 'upload');
    try {
      const upload = join(work, 'upload');
      const { sha256, size, head } = await spoolUpload(body, upload, this.limits.maxCompressedBytes);
      if (size === 0) throw new NimbusError('EMPTY_PACKAGE', 'The upload is empty; send the bytes of a tar.gz or zip archive, or of a source file.');
      const format = sniffFormat(head);
      const target = this.treeDir(sha256);
      // Same bytes, same tree: a package already stored was checked when it arrived.
      const summary = (await exists(target)) ? await summariseTree(target) : await this.unpack(upload, format, hints, work, target);
      return { sha256, size, format, files: summary.files, unpackedBytes: summary.bytes };
    } catch (err) {
      throw toNimbusError(err);
    } finally {
      await removeTree(work);
    }
  }

  async has(sha256: string): Promise<boolean> {
    return SHA256.test(sha256) && exists(this.treeDir(sha256));
  }

  treeDir(sha256: string): string {
    // The hash becomes a path: never let anything else through.
    if (!SHA256.test(sha256)) throw new NimbusError('INVALID_REQUEST', 'A package id is the 64-character lowercase hex sha256 returned by POST /api/v1/packages.');
    return join(this.packagesDir, sha256);
  }

  /** Unpacks and checks the upload under `work`, then publishes it as `target`. */
  private async unpack(upload: string, format: PackageInfo['format'], hints: UploadHints, work: string, target: string): Promise<TreeSummary> {
    const tree = join(work, 'tree');
    await mkdir(tree);
    await chmod(tree, DIR_MODE);
    const writer = new TreeWriter(tree, this.limits);
    if (format === 'tar.gz') await extractTarGz(upload, writer);
    else if (format === 'zip') await extractZip(upload, writer, this.limits.maxEntries);
    else await writer.file(writer.admit(singleFileName(hints.filename)), undefined, createReadStream(upload));

    const root = await packageRoot(tree);
    const summary = await summariseTree(root);
    if (summary.files === 0) {
      throw new NimbusError('EMPTY_PACKAGE', 'The archive contains no files (only directories or links); package the folder that holds the function code.');
    }
    await assertLinksInside(root, summary.symlinks);
    // Owner-only: every function's code is in here.
    await mkdir(this.packagesDir, { recursive: true, mode: 0o700 });
    await publishDir(root, target);
    return summary;
  }
}
