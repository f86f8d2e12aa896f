import { randomBytes } from 'node:crypto';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** File name of the secrets key inside the data directory. */
export const KEY_FILE = 'secrets.key';

/** AES-256 key length in bytes. */
export const KEY_BYTES = 32;

/** The secrets key of a data directory. */
export interface SecretsKey {
  key: Buffer;
  /** Absolute path of the key file (for messages; never the key itself). */
  path: string;
  /** True when this call created the file. */
  created: boolean;
  /** True when group or others may read the file (it should be 0600). */
  readableByOthers: boolean;
}

/**
 * Loads `<dataDir>/secrets.key`, creating it with a random key on first start. The file holds the
 * key in base64 and a newline, so it can be backed up and restored as text.
 *
 * Creation is atomic and never replaces a key: the key is written to a temporary file created
 * with mode 0600, then hard-linked to the final name. Unlike a rename, a link fails when the name
 * exists, so two platforms starting on the same data dir agree on one key instead of the second
 * silently overwriting a key the first may already have used.
 *
 * @throws Error naming the file when it exists but does not hold a 32-byte key.
 */
export async function loadSecretsKey(dataDir: string): Promise<SecretsKey> {
  const path = join(dataDir, KEY_FILE);
  let created = false;
  let text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) {
    text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
    created = await createExclusively(path, text);
    if (!created) text = await readFile(path, 'utf8');
  }
  const key = parseKey(text, path);
  const { mode } = await stat(path);
  return { key, path, created, readableByOthers: (mode & 0o077) !== 0 };
}

/** Writes `text` to a private temp file and links it to `path`; false when `path` appeared meanwhile. */
async function createExclusively(path: string, text: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temp);
  }
}

function parseKey(text: string, path: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== KEY_BYTES) {
    throw new Error(
      `${path} does not hold a secrets key (${KEY_BYTES} bytes in base64). Restore the original file from a backup; removing it makes every stored secret unreadable.`,
    );
  }
  return key;
}
