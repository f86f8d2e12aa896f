import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
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
 * @returns the stored package
 */
export async function uploadSource(client: NimbusClient, target: string, kind: 'file' | 'folder', shown: string, progress: Progress): Promise<PackageInfo> {
  try {
    if (kind === 'folder') {
      progress.step(`Packaging ${shown}…`);
      const packed = await packFolder(target);
      progress.step(`Uploading ${formatBytes(packed.bytes.length)} (${packed.files} file${packed.files === 1 ? '' : 's'}, ${formatBytes(packed.unpackedBytes)} unpacked)…`);
      return await client.uploadPackage(packed.bytes);
    }
    const bytes = await readFile(target);
    progress.step(`Uploading ${basename(target)} (${formatBytes(bytes.length)})…`);
    return await client.uploadPackage(bytes, basename(target));
  } catch (err) {
    if (err instanceof Error && !(err instanceof CliError) && (err as NodeJS.ErrnoException).code === 'EACCES') {
      throw new CliError(`Cannot read ${shown}: ${err.message}`);
    }
    throw err;
  }
}
