/**
 * What the CLI does with an async invocation it waits for or fetches: waits with progress on a
 * terminal (`--wait`), writes the stored response like a sync invoke does, and says why it
 * counts as a failure (exit 1).
 */
import { ERRORS } from '../core/errors.js';
import { formatDuration, type InvocationView } from '../api/wire.js';
import type { NimbusClient } from './client.js';
import { CliError, type CliContext } from './context.js';
import { formatClock } from './format.js';
import { attemptsText, formatProgress, responseBody, statusLine } from './invocation-format.js';
import { waitForInvocation, type WaitClock } from './invocation-wait.js';
import { invokeErrorHints } from './invoke-request.js';
import { write } from './io.js';
import { visibleText } from './visible-text.js';

/** How long `--wait` waits by default before giving up (the invocation itself goes on). */
export const DEFAULT_WAIT_TIMEOUT_MS = 15 * 60_000;
/** The longest `--timeout` of `--wait`: the longest an async invocation may wait to run (7 days). */
export const MAX_WAIT_TIMEOUT_MS = 7 * 86_400_000;

/** How {@link waitWithProgress} waits. */
export interface ProgressWaitOptions {
  timeoutMs: number;
  /** The invocation was accepted a moment ago: an unknown id is retried briefly before it is an error. */
  justAccepted?: boolean;
  clock?: WaitClock;
}

/**
 * Waits until invocation `id` ends and answers its last view. On a terminal, stderr shows each
 * status change. Ctrl-C stops the wait (exit 130) and running out of time exits 1; both say the
 * invocation goes on and how to look at it again.
 */
export async function waitWithProgress(ctx: CliContext, client: NimbusClient, id: string, options: ProgressWaitOptions): Promise<InvocationView> {
  const { timeoutMs, clock } = options;
  const { io, err: c } = ctx;
  const show = io.stderrIsTTY;
  if (show) io.stderr.write(`Waiting for invocation ${c.bold(id)} (Ctrl-C stops waiting, not the invocation)\n`);
  const abort = new AbortController();
  const stopListening = io.onSignal(() => abort.abort());
  try {
    const outcome = await waitForInvocation((i) => client.getInvocation(i), id, {
      timeoutMs,
      signal: abort.signal,
      // An id typed by hand is unknown at once; one just accepted may take a moment to show.
      notFoundGraceMs: options.justAccepted ? 5_000 : 0,
      ...(clock ? { clock } : {}),
      onChange: (view) => {
        if (show) io.stderr.write(`  ${c.dim(formatClock(Date.now()))} ${formatProgress(view)}\n`);
      },
    });
    const where = outcome.view ? ` (${outcome.view.status})` : '';
    if (outcome.kind === 'stopped') {
      throw new CliError(`Stopped waiting. Invocation ${id} goes on${where}; see it with: nimbus invocations get ${id}`, { exitCode: 130, raw: true });
    }
    if (outcome.kind === 'timeout') {
      throw new CliError(
        `Gave up waiting after ${formatDuration(timeoutMs)} (--timeout): invocation ${id} has not ended${where}. It goes on; wait again with: nimbus invocations get ${id} --wait`,
      );
    }
    return outcome.view;
  } finally {
    stopListening();
  }
}

/** The HTTP status and headers of the stored response, as `invoke --include` prints them. */
function headerBlock(view: InvocationView): string {
  const response = view.response!;
  let text = `HTTP/1.1 ${statusLine(response.status)}\n`;
  for (const [name, value] of Object.entries(response.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\n`;
  }
  return `${text}\n`;
}

/**
 * Writes the function's stored response to stdout like a sync invoke: with `include`, the status
 * line and headers first; then the body byte for byte (base64 decoded). On a terminal, a newline
 * follows a body that does not end with one. A truncated body is noted on stderr. Nothing is
 * written when the function never answered.
 */
export async function writeInvocationResponse(ctx: CliContext, view: InvocationView, options: { include?: boolean } = {}): Promise<void> {
  const { io } = ctx;
  const response = view.response;
  if (!response) return;
  if (options.include) await write(io.stdout, headerBlock(view));
  const body = responseBody(response);
  await write(io.stdout, body);
  if (io.stdoutIsTTY && body.length > 0 && body[body.length - 1] !== 0x0a) await write(io.stdout, '\n');
  if (response.truncated) {
    io.stderr.write(`${ctx.err.yellow('Note:')} the body is cut short: the function answered more than the platform keeps of an async response.\n`);
  }
}

/**
 * Why an ended invocation counts as a failure (exit 1), as the text to print: the platform's
 * error code and message (like a sync invoke's) or the function's HTTP status, whether it is a
 * dead letter and how to redrive it, and where to look. Undefined when it succeeded with a
 * status below 400.
 */
export function invocationFailure(view: InvocationView): string | undefined {
  const status = view.response?.status;
  if (view.status === 'succeeded' && (status === undefined || status < 400)) return undefined;
  const lines: string[] = [];
  if (view.error) {
    const code = view.error.code;
    // A code this CLI does not know yet (a newer platform) is shown without its HTTP status.
    const http = (ERRORS as Record<string, { status: number } | undefined>)[code]?.status;
    lines.push(`${http ? `HTTP ${http} ` : ''}[${code}]: ${visibleText(view.error.message)}`);
  } else if (status !== undefined) {
    lines.push(`HTTP ${statusLine(status)}`);
  } else {
    lines.push(`invocation ${view.id} ${view.status}`);
  }
  if (view.status === 'dead') {
    lines.push(`Invocation ${view.id} is a dead letter after ${attemptsText(view.attempts)}: queue it again with: nimbus dlq redrive ${view.function} --id ${view.id}`);
  } else if (view.status === 'failed') {
    lines.push(`Invocation ${view.id} failed after ${attemptsText(view.attempts)}: ${view.error ? 'this error is' : 'a 4xx answer (other than 429) is'} not retried.`);
  }
  if (view.error) lines.push(...invokeErrorHints(view.function, view.error.code));
  return lines.join('\n');
}
