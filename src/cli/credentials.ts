import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_DEFAULTS } from '../config/server-defaults.js';
import { isLoopbackHost } from '../core/invoke-auth.js';
import { DEFAULT_URL, normalizeBaseUrl } from './client.js';
import { configPath, readConfig } from './config.js';

/** Where the token came from, for messages such as "the token from NIMBUS_TOKEN was refused". */
export type TokenSource = '--token' | 'NIMBUS_TOKEN' | 'config' | 'admin.token' | 'none';

/** Which platform the CLI talks to, and with which token. */
export interface Credentials {
  url: string;
  urlSource: '--url' | 'NIMBUS_URL' | 'config' | 'default';
  token: string | undefined;
  tokenSource: TokenSource;
  /** The file the token was read from (config or admin.token). */
  tokenFile?: string;
}

/** The admin token file of `nimbus up` started in the current folder with the default data dir. */
export const LOCAL_ADMIN_TOKEN = join(SERVER_DEFAULTS.dataDir, 'admin.token');

/**
 * Resolves the platform URL (`--url`, `NIMBUS_URL`, the config file, the default) and the token,
 * first found wins:
 * 1. `--token`, 2. `NIMBUS_TOKEN`,
 * 3. the config file of `nimbus login`, only when it was saved for this same URL (a token is
 *    never sent to another platform than the one it was saved for),
 * 4. `./.nimbus/admin.token` when the URL is on this machine (loopback): what `nimbus up` started
 *    in this folder writes, so local use needs no setup.
 */
export function resolveCredentials(flags: { url?: string | undefined; token?: string | undefined }, env: Record<string, string | undefined>, cwd: string): Credentials {
  const config = readConfig(env);
  const [url, urlSource]: [string, Credentials['urlSource']] =
    flags.url !== undefined ? [flags.url, '--url'] : env['NIMBUS_URL'] ? [env['NIMBUS_URL'], 'NIMBUS_URL'] : config ? [config.url, 'config'] : [DEFAULT_URL, 'default'];
  const base = { url, urlSource };
  if (flags.token) return { ...base, token: flags.token, tokenSource: '--token' };
  if (env['NIMBUS_TOKEN']) return { ...base, token: env['NIMBUS_TOKEN'], tokenSource: 'NIMBUS_TOKEN' };
  if (config && sameUrl(config.url, url)) return { ...base, token: config.token, tokenSource: 'config', tokenFile: configPath(env) as string };
  if (isLoopbackUrl(url)) {
    const file = join(cwd, LOCAL_ADMIN_TOKEN);
    const token = readTokenFile(file);
    if (token) return { ...base, token, tokenSource: 'admin.token', tokenFile: file };
  }
  return { ...base, token: undefined, tokenSource: 'none' };
}

/** True when `url` points at this machine. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

function sameUrl(a: string, b: string): boolean {
  try {
    return normalizeBaseUrl(a) === normalizeBaseUrl(b);
  } catch {
    return false;
  }
}

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
