import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { PlatformLimits } from '../api/wire.js';
import type { NimbusClient, PackageInfo } from './client.js';
import { CliError } from './context.js';
import { formatBytes } from './format.js';
import { packFolder } from './pack.js';
import type { Progress } from './progress.js';

/** Whether `target` is a file or a folder; a CliError naming `shown` when it is neither or missing. */
export async function sourceKind(target: string, shown: string): Promise<'file' | 'folder'> {
  try {
    const s = await stat(target);
    if (s.isDirectory()) return 'folder';
    if (s.isFile()) return 'file';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`No such file or folder: ${shown}`);
    throw new CliError(`Cannot read ${shown}: ${(err as Error).message}`);
  }
  throw new CliError(`${shown} is neither a file nor a folder.`);
}

/**
 * Uploads a folder (packed as tar.gz) or a single file (as it is), telling `progress` each step.
 * The platform's limits are asked for while the folder is packed, and a package over them is
 * refused here with one sentence, before a byte is sent (a platform without `GET /api/v1/limits`
 * checks it on upload alone).
 * @returns the stored package
 */
export async function uploadSource(client: NimbusClient, target: string, kind: 'file' | 'folder', shown: string, progress: Progress): Promise<PackageInfo> {
  // Settled now, thrown after packing: a packing error must not leave a rejection unhandled.
  const limits = client.limits().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  try {
    if (kind === 'folder') {
      progress.step(`Packaging ${shown}…`);
      const packed = await packFolder(target);
      await checkSize(await limits, shown, { bytes: packed.bytes.length, unpackedBytes: packed.unpackedBytes, entries: packed.entries.length, files: packed.files });
      progress.step(`Uploading ${formatBytes(packed.bytes.length)} (${packed.files} file${packed.files === 1 ? '' : 's'}, ${formatBytes(packed.unpackedBytes)} unpacked)…`);
      return await client.uploadPackage(packed.bytes);
    }
    const bytes = await readFile(target);
    await checkSize(await limits, shown, { bytes: bytes.length });
    progress.step(`Uploading ${basename(target)} (${formatBytes(bytes.length)})…`);
    return await client.uploadPackage(bytes, basename(target));
  } catch (err) {
    if (err instanceof Error && !(err instanceof CliError) && (err as NodeJS.ErrnoException).code === 'EACCES') {
      throw new CliError(`Cannot read ${shown}: ${err.message}`);
    }
    throw err;
  }
}

/** A package's size as the platform's limits count it (the archive's entries when a folder). */
interface PackageSize {
  bytes: number;
  unpackedBytes?: number;
  entries?: number;
  files?: number;
}

async function checkSize(limits: { value: PlatformLimits | undefined } | { error: unknown }, shown: string, size: PackageSize): Promise<void> {
  if ('error' in limits) throw limits.error;
  const problem = limits.value && packageTooLarge(shown, size, limits.value.package);
  if (problem) throw new CliError(problem);
}

/** What to do about a package too large: the packer takes the whole folder, node_modules included. */
const SHRINK =
  'Deploy a folder with only what the function needs at run time: move tests, data and build caches out, and drop dev dependencies (npm prune --omit=dev); .git and .nimbus are never packed.';

/**
 * The sentence saying how `size` exceeds the platform's package `limits`, or undefined when it
 * fits: the size, the limit, and how to shrink it.
 */
export function packageTooLarge(shown: string, size: PackageSize, limits: PlatformLimits['package']): string | undefined {
  if (size.bytes > limits.maxBytes) {
    const what = size.files === undefined ? `${shown} is ${formatBytes(size.bytes)}` : `${shown} packs to ${formatBytes(size.bytes)} (${size.files} files)`;
    return `${what}, over the platform's upload limit of ${formatBytes(limits.maxBytes)}. ${size.files === undefined ? 'Nothing was uploaded.' : SHRINK}`;
  }
  if (size.unpackedBytes !== undefined && size.unpackedBytes > limits.maxUnpackedBytes) {
    return `${shown} holds ${formatBytes(size.unpackedBytes)} of files, over the platform's limit of ${formatBytes(limits.maxUnpackedBytes)} unpacked. ${SHRINK}`;
  }
  if (size.entries !== undefined && size.entries > limits.maxEntries) {
    return `${shown} has ${size.entries} files and folders, over the platform's limit of ${limits.maxEntries}. ${SHRINK}`;
  }
  return undefined;
}
