/**
 * `nimbus invoke --async` and `--wait`: the invocation is queued (`Prefer: respond-async`) and
 * the platform answers 202 with its id at once; `--wait` then polls until it ends and prints the
 * outcome the way a sync invoke prints a response.
 */
import { type AsyncAccepted, CALLBACK_URL_HEADER, IDEMPOTENCY_KEY_HEADER } from '../../api/wire.js';
import { ApiError, type NimbusClient } from '../client.js';
import { CliError, type CliContext } from '../context.js';
import { formatJson } from '../format.js';
import { DEFAULT_WAIT_TIMEOUT_MS, invocationFailure, waitWithProgress, writeInvocationResponse } from '../invocation-result.js';
import { invokeErrorHints, type InvokeRequest } from '../invoke-request.js';
import { write } from '../io.js';
import { visibleText } from '../visible-text.js';

/** The flags of `nimbus invoke` that belong to async invocations. */
export interface AsyncFlags {
  async?: boolean;
  wait?: boolean;
  /** Milliseconds; with --wait. */
  timeout?: number;
  idempotencyKey?: string;
  callbackUrl?: string;
  include?: boolean;
  json?: boolean;
}

/**
 * Queues the invocation and prints its id (`--json`: the accepted object); with `--wait`, waits
 * for its outcome and prints it (exit 1 when it failed, is a dead letter, or answered 400 or more).
 */
export async function invokeAsync(ctx: CliContext, client: NimbusClient, name: string, subPath: string, request: InvokeRequest, flags: AsyncFlags): Promise<void> {
  const headers = { ...request.headers };
  if (flags.idempotencyKey !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = flags.idempotencyKey;
  if (flags.callbackUrl !== undefined) headers[CALLBACK_URL_HEADER] = flags.callbackUrl;
  let accepted: AsyncAccepted;
  try {
    accepted = await client.invokeAsync(name, subPath, { ...request, headers });
  } catch (err) {
    // Refused before it was queued: printed as a sync invoke prints the platform's errors.
    if (err instanceof ApiError && err.code !== 'NOT_NIMBUS' && err.code !== 'ASYNC_UNSUPPORTED') {
      throw new CliError([`HTTP ${err.status} [${err.code}]: ${visibleText(err.message)}`, ...invokeErrorHints(name, err.code)].join('\n'));
    }
    throw err;
  }
  const { io } = ctx;
  if (!flags.wait) {
    await write(io.stdout, flags.json ? formatJson(accepted) : `${accepted.id}\n`);
    return;
  }
  const view = await waitWithProgress(ctx, client, accepted.id, { timeoutMs: flags.timeout ?? DEFAULT_WAIT_TIMEOUT_MS, justAccepted: true });
  if (flags.json) await write(io.stdout, formatJson(view));
  else await writeInvocationResponse(ctx, view, { include: flags.include ?? false });
  const failure = invocationFailure(view);
  if (failure) throw new CliError(failure);
}
