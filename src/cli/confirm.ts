import type { Readable } from 'node:stream';
import type { CliIO } from './io.js';

/**
 * Asks `question` on stderr and reads one line of stdin: true only for `y` or `yes` (any case).
 * The end of input (Ctrl-D) is a no. Call it only when stdin is a terminal: a destructive command
 * run from a script must be told with a flag (`--yes`), never by whatever happens to be piped in.
 */
export async function confirm(io: CliIO, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const answer = (await readLine(io.stdin)) ?? '';
  return /^(y|yes)$/i.test(answer.trim());
}

/** The first line of `input` (without its newline), or undefined when it ends before any. */
function readLine(input: Readable): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (line: string | undefined, err?: Error): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      const eol = text.indexOf('\n');
      if (eol !== -1) finish(text.slice(0, eol).replace(/\r$/, ''));
    };
    const onEnd = (): void => finish(text === '' ? undefined : text);
    const onError = (err: Error): void => finish(undefined, err);
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}
