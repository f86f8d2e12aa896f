import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { SECRET_LIMITS } from '../api/wire.js';
import { CliError } from './context.js';
import type { CliIO } from './io.js';

/** A terminal input stream; `setRawMode` exists only on real terminals. */
type TerminalInput = Readable & { setRawMode?(raw: boolean): unknown };

/**
 * Reads the value for `nimbus secret set`, never from the command line (it would stay in the
 * shell history and be visible in `ps`):
 * - `--from-file PATH`: the file's bytes, exactly (PEM keys and the like keep their final newline);
 * - stdin from a terminal: a prompt on stderr, and a line typed without echo;
 * - piped stdin: everything, minus one trailing newline (so `echo "$TOKEN" | nimbus secret set T` works).
 * An empty value or one over the limit is refused here, before anything is sent.
 */
export async function readSecretInput(io: CliIO, name: string, fromFile?: string): Promise<Buffer> {
  let value: Buffer;
  if (fromFile !== undefined) {
    value = await readValueFile(resolve(io.cwd, fromFile), fromFile);
  } else if (io.stdinIsTTY) {
    value = Buffer.from(await readHiddenLine(io.stdin, io.stderr, `Value for ${name} (input hidden): `), 'utf8');
  } else {
    value = stripNewline(await readLimited(io.stdin));
  }
  if (value.length === 0) {
    throw new CliError(`The value for ${name} is empty. Pipe it in (printf '%s' "$VALUE" | nimbus secret set ${name}) or use --from-file <path>.`);
  }
  return value;
}

async function readValueFile(path: string, shown: string): Promise<Buffer> {
  try {
    if ((await stat(path)).size > SECRET_LIMITS.valueBytes) throw tooLarge();
    return await readFile(path);
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `No such file: ${shown}` : `Cannot read ${shown}: ${(err as Error).message}`);
  }
}

/** All of `input`, refusing more than a secret may hold (plus room for a trailing CRLF). */
async function readLimited(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > SECRET_LIMITS.valueBytes + 2) throw tooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function stripNewline(value: Buffer): Buffer {
  if (value.at(-1) !== 0x0a) return value;
  return value.subarray(0, value.at(-2) === 0x0d ? -2 : -1);
}

function tooLarge(): CliError {
  return new CliError(`A secret value is at most ${SECRET_LIMITS.valueBytes} bytes.`);
}

/**
 * Prompts on `output` and reads one line from a terminal without echoing it. Enter (or Ctrl-D)
 * ends the line, Backspace deletes, Ctrl-C cancels (exit 130); escape sequences (arrow keys) are
 * ignored.
 */
export function readHiddenLine(input: TerminalInput, output: Writable, prompt: string): Promise<string> {
  output.write(prompt);
  input.setRawMode?.(true);
  input.setEncoding('utf8');
  return new Promise((resolvePromise, reject) => {
    let value = '';
    const finish = (err?: Error): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', finish);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolvePromise(value);
    };
    const onData = (chunk: string): void => {
      if (chunk.startsWith('\u001b')) return;
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new CliError('Cancelled.', { exitCode: 130 }));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ' || ch === '\t') value += ch;
      }
    };
    const onEnd = (): void => finish();
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', finish);
    input.resume();
  });
}
