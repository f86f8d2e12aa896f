import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * (src/util: helpers that know nothing of the platform, for every part and the CLI.)
 *
 * Writes a file only its owner can read: created 0600 under a temporary name, then renamed over
 * `path`, so there is never a moment with wider permissions nor a half-written file.
 */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  // 'wx': never follow or reuse something already at the temporary name.
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
}
