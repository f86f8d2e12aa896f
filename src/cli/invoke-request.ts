/**
 * The request `nimbus invoke` sends, from its flags: body (`--data`, `--data-file`), headers
 * (`--header`, `--key`), method and content type. Shared by sync and async invocations.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { INVOKE_KEY_HEADER } from '../api/wire.js';
import { CliError } from './context.js';
import { headersToObject } from './flags.js';
import type { CliIO } from './io.js';

/** The flags that shape the request. */
export interface InvokeRequestFlags {
  data?: string;
  dataFile?: string;
  method?: string;
  header?: [string, string][];
  key?: string;
}

/** What goes on the wire (the path is the caller's). */
export interface InvokeRequest {
  method: string;
  headers: Record<string, string | string[]>;
  body: string | Readable | null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.xml': 'application/xml',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
};

/** The content type sent with --data when none is given: JSON when it parses, text otherwise. */
export function contentTypeForData(data: string): string {
  try {
    JSON.parse(data);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}

/** The content type sent with --data-file when none is given, from the file extension. */
export function contentTypeForFile(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Builds the request from the flags: a file body is streamed (its size sent as content-length),
 * `-` streams stdin. Throws CliError for a missing file, and for a GET or HEAD with a body (exit 2).
 */
export async function buildInvokeRequest(flags: InvokeRequestFlags, io: CliIO): Promise<InvokeRequest> {
  const headers = headersToObject(flags.header ?? []);
  if (flags.key !== undefined) headers[INVOKE_KEY_HEADER] = flags.key;
  let body: string | Readable | undefined;
  if (flags.data !== undefined) {
    body = flags.data;
    headers['content-type'] ??= contentTypeForData(flags.data);
  } else if (flags.dataFile !== undefined) {
    if (flags.dataFile === '-') {
      body = io.stdin;
    } else {
      const file = resolve(io.cwd, flags.dataFile);
      try {
        const s = await stat(file);
        if (!s.isFile()) throw new CliError(`--data-file ${flags.dataFile} is not a file.`);
        headers['content-length'] ??= String(s.size);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`Cannot read --data-file ${flags.dataFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      body = createReadStream(file);
    }
    headers['content-type'] ??= flags.dataFile === '-' ? 'application/octet-stream' : contentTypeForFile(flags.dataFile);
  }
  const method = flags.method ?? (body === undefined ? 'GET' : 'POST');
  if ((method === 'GET' || method === 'HEAD') && body !== undefined) {
    throw new CliError(`A ${method} request cannot have a body: drop --data/--data-file or pass --method POST.`, { exitCode: 2 });
  }
  return { method, headers, body: body ?? null };
}

/** Platform codes that mean "look at what the function logged". */
const LOG_HINT_CODES = new Set(['FUNCTION_ERROR', 'FUNCTION_CRASHED', 'FUNCTION_OUT_OF_MEMORY', 'FUNCTION_START_FAILED', 'FUNCTION_TIMEOUT']);

/** What to do about a platform error of an invocation of `name`: lines to print after it (maybe none). */
export function invokeErrorHints(name: string, code: string): string[] {
  if (LOG_HINT_CODES.has(code)) return [`See what the function logged with: nimbus logs ${name} --since 5m`];
  if (code === 'INVOKE_KEY_REQUIRED' || code === 'INVOKE_KEY_INVALID') return [`Pass a key of ${name} with --key; create one with: nimbus keys create ${name}`];
  return [];
}
