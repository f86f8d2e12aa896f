import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { NimbusError } from '../core/errors.js';
import { EXEC_PROTOCOLS, type ExecProtocol } from '../core/spec.js';
import { errorCode } from './fs-util.js';
import { handlerNotFound, handlerPath, type ResolvedHandler } from './handler-files.js';

/** The manifest a folder may carry so that `nimbus deploy <dir>` alone runs it as a program. */
export const MANIFEST_FILE = 'nimbus.json';

const manifestSchema = z
  .object({
    runtime: z.literal('exec').optional(),
    command: z.string().min(1).max(1024).regex(/^[^\0\r\n]+$/, 'command must be one line'),
    protocol: z.enum(EXEC_PROTOCOLS).optional(),
  })
  .strict();

/** What `nimbus.json` says, when the package has one. */
export type ExecManifest = z.output<typeof manifestSchema>;

/**
 * Reads the package's `nimbus.json`, if any.
 * @throws INVALID_MANIFEST naming the problem when it is there but not valid.
 */
export async function readManifest(tree: string): Promise<ExecManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(tree, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidManifest(`it is not JSON (${(err as Error).message})`);
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues;
    const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
    throw invalidManifest(issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')} (allowed: runtime, command, protocol)` : `${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
  return result.data;
}

function invalidManifest(problem: string): NimbusError {
  return new NimbusError('INVALID_MANIFEST', `${MANIFEST_FILE} in the package is not valid: ${problem}. Example: {"runtime": "exec", "command": "./run.sh", "protocol": "stdio"}.`, {
    details: { field: MANIFEST_FILE },
  });
}

/**
 * Resolves an exec function: the command (given, else the manifest's) and its protocol (given,
 * else the manifest's, else http). A program named with a path must be an executable file of the
 * package; a bare name (`python3 app.py`, `sh run.sh`) is looked up on the instance's PATH.
 *
 * @throws HANDLER_NOT_FOUND saying what is missing and how to fix it.
 */
export async function resolveExecHandler(tree: string, options: { command?: string | undefined; protocol?: ExecProtocol | undefined }): Promise<ResolvedHandler> {
  const manifest = await readManifest(tree);
  const command = (options.command ?? manifest?.command)?.trim();
  if (!command) {
    throw new NimbusError('HANDLER_NOT_FOUND', `An exec function needs the command that runs it: pass --command (e.g. --command ./server), or put {"runtime": "exec", "command": "./server"} in ${MANIFEST_FILE}.`, {
      details: { field: 'command' },
    });
  }
  const protocol = options.protocol ?? manifest?.protocol ?? 'http';
  const program = command.split(/\s+/)[0]!;
  if (program.includes('/') && !program.startsWith('/')) {
    const file = handlerPath(program);
    const mode = await stat(join(tree, file)).then(
      (s) => (s.isFile() ? s.mode : undefined),
      () => undefined,
    );
    if (mode === undefined) throw handlerNotFound(`The command runs ${program}, which is not a file of the package.`);
    if ((mode & 0o111) === 0) throw handlerNotFound(`${program} is not executable: chmod +x it and deploy again (the package keeps execute bits).`);
  } else if (!program.startsWith('/')) {
    // A bare name is looked up on PATH, never in the code directory: say so when it meant a package file.
    const inPackage = await stat(join(tree, program)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (inPackage) throw handlerNotFound(`The command names ${program}, a file of the package: write ./${program} (a bare name is looked up on PATH).`);
  }
  return { runtime: 'exec', handler: command, entry: command, export: protocol };
}
