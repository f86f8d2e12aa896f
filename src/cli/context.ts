import type { Command } from 'commander';
import { NimbusClient } from './client.js';
import { type Credentials, resolveCredentials } from './credentials.js';
import { colors, type Colors } from './format.js';
import { useColor, type CliIO } from './io.js';

/** An error that ends the command with a message on stderr and an exit code (1 unless told). */
export class CliError extends Error {
  readonly exitCode: number;
  /** Printed as is, without the `Error: ` prefix. */
  readonly raw: boolean;

  constructor(message: string, options: { exitCode?: number; raw?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
    this.raw = options.raw ?? false;
  }
}

/** What every command gets: the IO, colours, and the API client for this run. */
export interface CliContext {
  io: CliIO;
  version: string;
  /** Colours for stdout (only on a terminal, and only without NO_COLOR). */
  out: Colors;
  /** Colours for stderr. */
  err: Colors;
  /** The API client, from --url/--token, NIMBUS_URL/NIMBUS_TOKEN or saved ones (one per run; see resolveCredentials). */
  client(command: Command): NimbusClient;
  /** What client() used, once it was called (for hints when the platform refuses the token). */
  credentials(): Credentials | undefined;
  /** Closes what the run opened. */
  close(): Promise<void>;
}

export function createContext(io: CliIO, version: string): CliContext {
  let client: NimbusClient | undefined;
  let credentials: Credentials | undefined;
  return {
    io,
    version,
    out: colors(useColor(io, 'stdout')),
    err: colors(useColor(io, 'stderr')),
    client(command) {
      if (client) return client;
      const opts = command.optsWithGlobals<{ url?: string; token?: string }>();
      const resolved = resolveCredentials(opts, io.env, io.cwd);
      try {
        client = new NimbusClient({ url: resolved.url, token: resolved.token, userAgent: `nimbus-cli/${version}` });
      } catch (err) {
        throw new CliError(`${(err as Error).message} (from ${resolved.urlSource === 'config' ? 'the config of nimbus login' : resolved.urlSource})`, {
          exitCode: 2,
        });
      }
      credentials = resolved;
      // A platform chosen by a saved login or the environment must never surprise: name it (on
      // stderr, so output that scripts parse is unchanged). --url is what the user just typed.
      if (resolved.urlSource === 'config' || resolved.urlSource === 'NIMBUS_URL') {
        io.stderr.write(`Platform: ${client.baseUrl} (from ${resolved.urlSource === 'config' ? 'nimbus login' : 'NIMBUS_URL'})\n`);
      }
      return client;
    },
    credentials: () => credentials,
    async close() {
      await client?.close();
    },
  };
}
