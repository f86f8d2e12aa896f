import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writePrivateFile } from '../util/private-file.js';

/** What `nimbus login` saves: which platform, and the token for it. */
export interface CliConfig {
  url: string;
  token: string;
}

/**
 * `${XDG_CONFIG_HOME:-~/.config}/nimbus/config.json`, from the given environment only (so tests
 * and odd setups never read someone else's file); undefined when neither variable is set.
 */
export function configPath(env: Record<string, string | undefined>): string | undefined {
  const base = env['XDG_CONFIG_HOME'] || (env['HOME'] ? join(env['HOME'], '.config') : undefined);
  return base === undefined ? undefined : join(base, 'nimbus', 'config.json');
}

/**
 * The saved config, or undefined when there is none. A damaged file is an error saying how to fix
 * it (a plain Error: the CLI prints its message).
 */
export function readConfig(env: Record<string, string | undefined>): CliConfig | undefined {
  const path = configPath(env);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<CliConfig>;
    if (typeof parsed.url === 'string' && typeof parsed.token === 'string') return { url: parsed.url, token: parsed.token };
  } catch {
    // reported below
  }
  throw new Error(`${path} is not a Nimbus config ({"url","token"}). Log in again with \`nimbus login\`, or delete it with \`nimbus logout\`.`);
}

/** Saves the config (the file 0600, its folder 0700: it holds a token); answers its path. */
export async function saveConfig(env: Record<string, string | undefined>, config: CliConfig): Promise<string> {
  const path = configPath(env);
  if (path === undefined) throw new Error('Cannot tell where to save the config: set HOME or XDG_CONFIG_HOME.');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writePrivateFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/** Deletes the config; answers its path, or undefined when there was none. */
export async function removeConfig(env: Record<string, string | undefined>): Promise<string | undefined> {
  const path = configPath(env);
  if (path === undefined) return undefined;
  try {
    await rm(path);
    return path;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
