import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenRepository } from '../store/auth-types.js';
import { hashSecret, isWellFormed, newId, newToken, TOKEN_PREFIX } from './credentials.js';
import { writePrivateFile } from '../util/private-file.js';

/** File name of the admin token inside the data directory. */
export const ADMIN_TOKEN_FILE = 'admin.token';

/** Name of the admin token's record, so `nimbus tokens ls` says where it came from. */
const ADMIN_TOKEN_NAME = 'admin.token';

/** What {@link ensureAdminToken} did. */
export interface AdminToken {
  /** Absolute path of the token file. */
  path: string;
  /** `created`: a new token was made (first start, or the previous one was revoked); `registered`: the file's token was stored again (e.g. the database was deleted); `reused`. */
  outcome: 'created' | 'registered' | 'reused';
  /** True when the file is readable by others than its owner (it is left as it is, and reported). */
  exposed: boolean;
}

/**
 * Makes sure `<dataDir>/admin.token` holds an admin token the store accepts, so the machine's owner
 * can always reach the management API:
 * - no file: a new token is stored and written to the file (mode 0600);
 * - a file whose token the store does not know (deleted database): it is stored again;
 * - a file whose token was revoked: a new one replaces it (revoke and restart rotates it).
 *
 * @throws Error when the file exists but does not hold a token (it is never overwritten then).
 */
export async function ensureAdminToken(dataDir: string, store: TokenRepository, now: number): Promise<AdminToken> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  const existing = await readToken(path);
  if (existing !== undefined) {
    if (!isWellFormed(existing, TOKEN_PREFIX)) {
      throw new Error(`${path} does not hold a Nimbus token. Move it away (a new admin token is then created at start).`);
    }
    const exposed = ((await stat(path)).mode & 0o077) !== 0;
    const record = await store.findTokenByHash(hashSecret(existing));
    if (record && record.revokedAt === undefined && record.scope === 'admin') return { path, outcome: 'reused', exposed };
    if (!record) {
      await store.createToken({ id: newId('tok'), name: ADMIN_TOKEN_NAME, scope: 'admin', hash: hashSecret(existing), createdAt: now });
      return { path, outcome: 'registered', exposed };
    }
  }
  const token = newToken();
  // The file first: should storing fail, the next start registers the file's token.
  await writePrivateFile(path, `${token}\n`);
  await store.createToken({ id: newId('tok'), name: ADMIN_TOKEN_NAME, scope: 'admin', hash: hashSecret(token), createdAt: now });
  return { path, outcome: 'created', exposed: false };
}

async function readToken(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
