import type { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { CALLBACK_URL_HEADER, IDEMPOTENCY_KEY_HEADER, INVOKE_KEY_HEADER, formatDuration } from '../../api/wire.js';
import { decodeError, explainNetworkError, type RawResponse } from '../client.js';
import { visibleText } from '../visible-text.js';
import { CliError, type CliContext } from '../context.js';
import { collectHeader, parseCallbackUrl, parseDurationFlag, parseIdempotencyKey, parseMethod, parseSubPath } from '../flags.js';
import { DEFAULT_WAIT_TIMEOUT_MS, MAX_WAIT_TIMEOUT_MS } from '../invocation-result.js';
import { buildInvokeRequest, invokeErrorHints, type InvokeRequestFlags } from '../invoke-request.js';
import { write } from '../io.js';
import { invokeAsync, type AsyncFlags } from './invoke-async.js';

interface InvokeOptions extends InvokeRequestFlags, AsyncFlags {
  path?: string;
  include?: boolean;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ nimbus invoke hello
  $ nimbus invoke hello --data '{"name":"Ada"}'
  $ nimbus invoke resize --data-file photo.jpg --header 'Content-Type: image/jpeg' > small.jpg
  $ nimbus invoke api --method DELETE --path '/items/42?force=true' --include
  $ echo hi | nimbus invoke echo --data-file -
  $ nimbus invoke api --key nmk_…                     a function deployed with --auth key
  $ id=$(nimbus invoke report --async -d '{"month":11}')   queue it; prints the invocation id
  $ nimbus invoke report --wait -d '{"month":11}'        queue it, wait, print its response

The response body is written to stdout byte for byte (on a terminal, a newline follows a body
that does not end with one). --json prints {status, headers, body} instead, the body as text, or
base64 with "bodyEncoding": "base64" when it is not UTF-8. The command exits 1 when the status is
400 or more; platform errors also print their code (e.g. [FUNCTION_TIMEOUT]) on stderr.

--async queues the invocation (Prefer: respond-async) and prints its id (--json: {id, status});
the platform runs it, retrying failures, and keeps the outcome: see it with nimbus invocations
get <id>. --wait also waits for the outcome (polling; progress on stderr when it is a terminal)
and prints it like a sync invoke, exiting 1 when it failed or is a dead letter (--json: the
invocation object).`;

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

/** Flags that only mean something for async invocations are refused without --async (exit 2), before anything is sent. */
function checkAsyncFlags(opts: InvokeOptions): void {
  const usage = (message: string): CliError => new CliError(message, { exitCode: 2 });
  if (!opts.async) {
    for (const [flag, set] of [['--idempotency-key', opts.idempotencyKey], ['--callback-url', opts.callbackUrl]] as const) {
      if (set !== undefined) throw usage(`${flag} is for async invocations: add --async (or --wait).`);
    }
  }
  if (opts.timeout !== undefined && !opts.wait) throw usage('--timeout is how long --wait waits: add --wait.');
  if (opts.async && !opts.wait && opts.include) throw usage('--include shows the response, which an --async invocation does not have yet: add --wait.');
}

export function registerInvoke(program: Command, ctx: CliContext): void {
  program
    .command('invoke')
    .summary('call a function over HTTP and print its response')
    .description(
      'Call a function through the gateway (<url>/fn/<name><path>) and write the response body to stdout; or queue the invocation (--async) and print its id, or queue it and wait for its outcome (--wait).',
    )
    .argument('<name>', 'function name')
    .addOption(new Option('-d, --data <text>', 'request body').conflicts('dataFile'))
    .option('--data-file <path>', 'read the request body from a file (- for stdin)')
    .option('-X, --method <method>', 'HTTP method (default: POST with a body, GET without)', parseMethod)
    .option('-p, --path <path>', 'sub-path and query the function sees, e.g. /users/1?full=1', parseSubPath)
    .option('-H, --header <header>', "request header 'Key: Value' (repeatable)", collectHeader)
    .addOption(new Option('-i, --include', 'print the status line and response headers before the body').conflicts('json'))
    .option('--json', 'print the status, headers and body as one JSON object (--async: the accepted {id, status}; --wait: the invocation)')
    .option('--key <key>', `invoke key, sent as ${INVOKE_KEY_HEADER} (functions deployed with --auth key)`)
    .option('--async', 'queue the invocation and print its id instead of waiting for the response')
    .addOption(new Option('--wait', 'queue it, wait until it ends and print its response (implies --async)').implies({ async: true }))
    .option('--timeout <duration>', `with --wait: give up waiting after this long (default: ${formatDuration(DEFAULT_WAIT_TIMEOUT_MS)})`, (v) =>
      parseDurationFlag('--timeout', v, { min: 1_000, max: MAX_WAIT_TIMEOUT_MS }),
    )
    .option('--idempotency-key <key>', `with --async: the same key within 24 hours queues nothing new (sent as ${IDEMPOTENCY_KEY_HEADER})`, parseIdempotencyKey)
    .option('--callback-url <url>', `with --async: POST the outcome there when it ends (sent as ${CALLBACK_URL_HEADER})`, parseCallbackUrl)
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, opts: InvokeOptions, command: Command) => {
      checkAsyncFlags(opts);
      const client = ctx.client(command);
      const { io } = ctx;
      const request = await buildInvokeRequest(opts, io);
      if (opts.async) return invokeAsync(ctx, client, name, opts.path ?? '', request, opts);

      const res = await client.raw(`/fn/${encodeURIComponent(name)}${opts.path ?? ''}`, {
        ...request,
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
        throw new CliError([`HTTP ${res.status} [${code}]: ${visibleText(err.message)}`, ...invokeErrorHints(name, code)].join('\n'));
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
