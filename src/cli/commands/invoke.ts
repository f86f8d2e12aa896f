import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { INVOKE_KEY_HEADER } from '../../api/wire.js';
import { decodeError, explainNetworkError, type RawResponse } from '../client.js';
import { visibleText } from '../visible-text.js';
import { CliError, type CliContext } from '../context.js';
import { collectHeader, headersToObject, parseMethod, parseSubPath } from '../flags.js';
import { write } from '../io.js';

interface InvokeOptions {
  data?: string;
  dataFile?: string;
  method?: string;
  path?: string;
  header?: [string, string][];
  include?: boolean;
  json?: boolean;
  key?: string;
}

const EXAMPLES = `
Examples:
  $ nimbus invoke hello
  $ nimbus invoke hello --data '{"name":"Ada"}'
  $ nimbus invoke resize --data-file photo.jpg --header 'Content-Type: image/jpeg' > small.jpg
  $ nimbus invoke api --method DELETE --path '/items/42?force=true' --include
  $ echo hi | nimbus invoke echo --data-file -
  $ nimbus invoke api --key nmk_…                     a function deployed with --auth key

The response body is written to stdout byte for byte (on a terminal, a newline follows a body
that does not end with one). --json prints {status, headers, body} instead, the body as text, or
base64 with "bodyEncoding": "base64" when it is not UTF-8. The command exits 1 when the status is
400 or more; platform errors also print their code (e.g. [FUNCTION_TIMEOUT]) on stderr.`;

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

/** Platform codes that mean "look at what the function logged". */
const LOG_HINT_CODES = new Set(['FUNCTION_ERROR', 'FUNCTION_CRASHED', 'FUNCTION_OUT_OF_MEMORY', 'FUNCTION_START_FAILED', 'FUNCTION_TIMEOUT']);

function headerLines(res: RawResponse): string {
  let text = `HTTP/1.1 ${res.status}${res.statusText ? ` ${res.statusText}` : ''}\n`;
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\n`;
  }
  return `${text}\n`;
}

/** `--json`: the whole response as one object; exits 1 for a status of 400 or more, like a plain invoke. */
async function printJson(res: RawResponse, stdout: Writable, baseUrl: string): Promise<void> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
  } catch (err) {
    throw explainNetworkError(err, baseUrl);
  }
  const body = Buffer.concat(chunks);
  const text = new TextDecoder('utf-8', { fatal: true });
  let decoded: string | undefined;
  try {
    decoded = text.decode(body);
  } catch {
    decoded = undefined;
  }
  const answer = {
    status: res.status,
    headers: res.headers,
    body: decoded ?? body.toString('base64'),
    ...(decoded === undefined ? { bodyEncoding: 'base64' } : {}),
  };
  await write(stdout, `${JSON.stringify(answer, null, 2)}\n`);
  if (res.status >= 400) throw new CliError(`HTTP ${res.status}`);
}

export function registerInvoke(program: Command, ctx: CliContext): void {
  program
    .command('invoke')
    .summary('call a function over HTTP and print its response')
    .description('Call a function through the gateway (<url>/fn/<name><path>) and write the response body to stdout.')
    .argument('<name>', 'function name')
    .addOption(new Option('-d, --data <text>', 'request body').conflicts('dataFile'))
    .option('--data-file <path>', 'read the request body from a file (- for stdin)')
    .option('-X, --method <method>', 'HTTP method (default: POST with a body, GET without)', parseMethod)
    .option('-p, --path <path>', 'sub-path and query the function sees, e.g. /users/1?full=1', parseSubPath)
    .option('-H, --header <header>', "request header 'Key: Value' (repeatable)", collectHeader)
    .addOption(new Option('-i, --include', 'print the status line and response headers before the body').conflicts('json'))
    .option('--json', 'print the status, headers and body as one JSON object')
    .option('--key <key>', `invoke key, sent as ${INVOKE_KEY_HEADER} (functions deployed with --auth key)`)
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, opts: InvokeOptions, command: Command) => {
      const client = ctx.client(command);
      const { io } = ctx;
      const headers = headersToObject(opts.header ?? []);
      if (opts.key !== undefined) headers[INVOKE_KEY_HEADER] = opts.key;
      let body: string | Readable | undefined;
      if (opts.data !== undefined) {
        body = opts.data;
        headers['content-type'] ??= contentTypeForData(opts.data);
      } else if (opts.dataFile !== undefined) {
        if (opts.dataFile === '-') {
          body = io.stdin;
        } else {
          const file = resolve(io.cwd, opts.dataFile);
          try {
            const s = await stat(file);
            if (!s.isFile()) throw new CliError(`--data-file ${opts.dataFile} is not a file.`);
            headers['content-length'] ??= String(s.size);
          } catch (err) {
            if (err instanceof CliError) throw err;
            throw new CliError(`Cannot read --data-file ${opts.dataFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
          }
          body = createReadStream(file);
        }
        headers['content-type'] ??= opts.dataFile === '-' ? 'application/octet-stream' : contentTypeForFile(opts.dataFile);
      }
      const method = opts.method ?? (body === undefined ? 'GET' : 'POST');
      if ((method === 'GET' || method === 'HEAD') && body !== undefined) {
        throw new CliError(`A ${method} request cannot have a body: drop --data/--data-file or pass --method POST.`, { exitCode: 2 });
      }

      const res = await client.raw(`/fn/${encodeURIComponent(name)}${opts.path ?? ''}`, {
        method,
        headers,
        body: body ?? null,
        auth: false,
        callerToken: true,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      if (opts.json) return printJson(res, io.stdout, client.baseUrl);
      if (opts.include) await write(io.stdout, headerLines(res));

      const code = res.headers['x-nimbus-error'];
      if (res.status >= 400 && typeof code === 'string') {
        const err = await decodeError(res);
        if (opts.include) await write(io.stdout, JSON.stringify({ error: { code: err.code, message: err.message } }) + '\n');
        // The message may quote the function's own text (an exception message): never raw to a terminal.
        let message = `HTTP ${res.status} [${code}]: ${visibleText(err.message)}`;
        if (LOG_HINT_CODES.has(code)) message += `\nSee what the function logged with: nimbus logs ${name} --since 5m`;
        if (code === 'INVOKE_KEY_REQUIRED' || code === 'INVOKE_KEY_INVALID') {
          message += `\nPass a key of ${name} with --key; create one with: nimbus keys create ${name}`;
        }
        throw new CliError(message);
      }

      let last: number | undefined;
      try {
        for await (const chunk of res.body) {
          const bytes = chunk as Buffer;
          if (bytes.length > 0) last = bytes[bytes.length - 1];
          await write(io.stdout, bytes);
        }
      } catch (err) {
        throw explainNetworkError(err, client.baseUrl);
      }
      // Keeps the shell prompt off the body's last line; pipes still get the bytes exactly.
      if (io.stdoutIsTTY && last !== undefined && last !== 0x0a) await write(io.stdout, '\n');
      if (res.status >= 400) {
        throw new CliError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      }
    });
}
