/**
 * How async invocations read for people: the `invocations ls` / `dlq ls` table, the
 * `invocations get` block, and the progress lines of `invoke --wait`. Everything a function
 * controls (its body and headers, its error text) goes through visibleText before it reaches a
 * terminal.
 */
import { STATUS_CODES } from 'node:http';
import type { InvocationResponseView, InvocationStatus, InvocationView } from '../api/wire.js';
import { formatAgo, formatBytes, formatClock, formatKeyValues, formatTable, formatUntil, type Colors } from './format.js';
import { visibleText } from './visible-text.js';

/** Lines of a text body `invocations get` shows; the rest is counted. */
const PREVIEW_LINES = 10;
/** Characters of one preview line. */
const PREVIEW_WIDTH = 200;

/** The status, coloured: green succeeded, red failed or dead, yellow retrying. */
export function formatStatus(status: InvocationStatus, c: Colors): string {
  if (status === 'succeeded') return c.green(status);
  if (status === 'failed' || status === 'dead') return c.red(status);
  if (status === 'retrying') return c.yellow(status);
  return status;
}

/** How the last attempt ended: the platform's error code, else the function's HTTP status; `-` before any. */
export function formatResult(view: Pick<InvocationView, 'error' | 'response'> & Partial<Pick<InvocationView, 'httpStatus'>>): string {
  if (view.error) return view.error.code;
  if (view.response) return String(view.response.status);
  if (typeof view.httpStatus === 'number') return String(view.httpStatus);
  return '-';
}

/** `212ms`, `1.4s`: an invocation's duration; `-` when none ran. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return ms < 1000 ? `${Math.round(ms * 10) / 10}ms` : `${Math.round(ms / 100) / 10}s`;
}

/** `200 OK`, `418 I'm a Teapot`, or the bare number for statuses Node has no text for. */
export function statusLine(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : String(status);
}

/** The FINISHED/NEXT column: when an ended invocation ended, or when a retrying one tries again. */
function finishedOrNext(view: InvocationView, now: number): string {
  if (view.status === 'retrying') return `next ${formatUntil(view.nextAttemptAt, now)}`;
  return view.finishedAt ? formatAgo(view.finishedAt, now) : '-';
}

/**
 * The `nimbus invocations ls` table: every source, with how long each took. In the order given
 * (the API's: newest first).
 */
export function formatHistoryTable(views: InvocationView[], c: Colors, now = Date.now()): string {
  const rows = views.map((v) => [
    v.id,
    v.function,
    v.source,
    formatStatus(v.status, c),
    String(v.attempts),
    formatAgo(v.createdAt, now),
    v.status === 'retrying' ? finishedOrNext(v, now) : formatMs(v.metering?.durationMs),
    v.metering?.coldStart ? 'cold' : '',
    formatResult(v),
  ]);
  return formatTable(['ID', 'FUNCTION', 'SOURCE', 'STATUS', 'ATTEMPTS', 'CREATED', 'DURATION', 'START', 'RESULT'], rows, {
    align: ['left', 'left', 'left', 'left', 'right', 'left', 'right', 'left', 'left'],
    header: c.bold,
  });
}

/** The `nimbus dlq ls` table (async invocations only), in the order given (the API's: newest first). */
export function formatInvocationTable(views: InvocationView[], c: Colors, now = Date.now()): string {
  const rows = views.map((v) => [
    v.id,
    v.function,
    formatStatus(v.status, c),
    String(v.attempts),
    formatAgo(v.createdAt, now),
    finishedOrNext(v, now),
    formatResult(v),
  ]);
  return formatTable(['ID', 'FUNCTION', 'STATUS', 'ATTEMPTS', 'CREATED', 'FINISHED/NEXT', 'RESULT'], rows, {
    align: ['left', 'left', 'left', 'right', 'left', 'left', 'left'],
    header: c.bold,
  });
}

/** The stored response body as bytes (base64 decoded when it is not UTF-8 text). */
export function responseBody(response: Pick<InvocationResponseView, 'body' | 'bodyEncoding'>): Buffer {
  return Buffer.from(response.body, response.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}

/**
 * The first lines of a text body, made safe for a terminal; a binary body is only sized.
 * `partial` says that the preview leaves something out.
 */
export function bodyPreview(response: InvocationResponseView, c: Colors): { lines: string[]; partial: boolean } {
  const size = responseBody(response).length;
  if (size === 0) return { lines: [c.dim('(empty)')], partial: false };
  if (response.bodyEncoding === 'base64') return { lines: [c.dim(`(binary, ${formatBytes(size)})`)], partial: true };
  const all = response.body.replace(/\r?\n$/, '').split('\n');
  let partial = all.length > PREVIEW_LINES;
  const lines = all.slice(0, PREVIEW_LINES).map((line) => {
    const chars = [...line.replace(/\r$/, '')];
    if (chars.length <= PREVIEW_WIDTH) return visibleText(chars.join(''));
    partial = true;
    return `${visibleText(chars.slice(0, PREVIEW_WIDTH).join(''))}${c.dim('…')}`;
  });
  if (all.length > PREVIEW_LINES) lines.push(c.dim(`… ${all.length - PREVIEW_LINES} more lines`));
  return { lines, partial };
}

const when = (time: string, now: number, relative: (t: string, now: number) => string): string => `${time} (${relative(time, now)})`;

/** The `nimbus invocations get` block: one `key: value` line per field, the response, then hints. */
export function formatInvocationDetails(view: InvocationView, c: Colors, now = Date.now()): string {
  const pairs: [string, string][] = [
    ['id', c.bold(view.id)],
    ['function', view.version === null ? view.function : `${view.function} (version ${view.version})`],
    ['status', formatStatus(view.status, c)],
    ['attempts', String(view.attempts)],
    ['request', visibleText(`${view.request.method} ${view.request.path}`)],
    ['created', when(view.createdAt, now, formatAgo)],
  ];
  // Older platforms do not send it.
  if (view.trigger) pairs.splice(4, 0, ['trigger', `${view.trigger} (see: nimbus trigger get ${view.trigger})`]);
  if (view.startedAt) pairs.push(['started', when(view.startedAt, now, formatAgo)]);
  if (view.finishedAt) pairs.push(['finished', when(view.finishedAt, now, formatAgo)]);
  if (view.nextAttemptAt) pairs.push(['next attempt', when(view.nextAttemptAt, now, formatUntil)]);
  if (view.error) pairs.push(['error', `${c.red(`[${view.error.code}]`)} ${visibleText(view.error.message)}`]);
  const m = view.metering;
  if (m) {
    pairs.push(['source', view.source]);
    pairs.push(['duration', `${formatMs(m.durationMs)} (queue ${formatMs(m.queueMs)}, start ${formatMs(m.startMs)}${m.coldStart ? ' cold' : ''}, handler ${formatMs(m.handlerMs)})`]);
    pairs.push(['billed', `${m.billedMs}ms at ${m.memoryMb} MB = ${m.gbSeconds.toFixed(6)} GB-s`]);
    pairs.push(['cpu', m.cpuMs === null ? c.dim('(not reported)') : formatMs(m.cpuMs)]);
    pairs.push(['bytes', `${formatBytes(m.bytesIn)} in, ${formatBytes(m.bytesOut)} out`]);
  }
  const hints: string[] = [];
  const response = view.response;
  if (!response && view.source !== 'async' && view.httpStatus !== null) {
    pairs.push(['response', `${statusLine(view.httpStatus)} ${c.dim('(bodies of sync invocations are not kept)')}`]);
  } else if (!response) {
    pairs.push(['response', c.dim('(none)')]);
  } else {
    const size = formatBytes(responseBody(response).length);
    const truncated = response.truncated ? c.yellow(' (truncated: the function answered more than was kept)') : '';
    pairs.push(['response', `${statusLine(response.status)}, ${size} body${truncated}`]);
    const headers = Object.entries(response.headers).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => visibleText(`${name}: ${v}`)),
    );
    headers.forEach((line, i) => pairs.push([i === 0 ? 'headers' : '', line]));
    const preview = bodyPreview(response, c);
    preview.lines.forEach((line, i) => pairs.push([i === 0 ? 'body' : '', line]));
    if (preview.partial) hints.push(`The whole body: nimbus invocations get ${view.id} --body`);
  }
  if (view.status === 'dead') hints.push(`A dead letter: queue it again with: nimbus dlq redrive ${view.function} --id ${view.id}`);
  const text = formatKeyValues(pairs, c.dim);
  return hints.length ? `${text}\n${hints.join('\n')}\n` : text;
}

/** How the last attempt ended, for progress lines: `[FUNCTION_ERROR]` or `HTTP 500`. */
function lastOutcome(view: InvocationView): string {
  if (view.error) return `[${view.error.code}]`;
  if (view.response) return `HTTP ${view.response.status}`;
  return 'no answer';
}

/** `1 attempt`, `3 attempts`. */
export const attemptsText = (n: number): string => `${n} attempt${n === 1 ? '' : 's'}`;

/**
 * One progress line of `invoke --wait` (without a newline), for a status change: `queued`,
 * `running (attempt 2)`, `retrying: attempt 1 ended with [FUNCTION_ERROR]; next at 12:00:03
 * (in 2s)`, `succeeded after 2 attempts`.
 */
export function formatProgress(view: InvocationView, now = Date.now()): string {
  switch (view.status) {
    case 'queued':
      return 'queued';
    case 'running':
      return `running (attempt ${view.attempts})`;
    case 'retrying': {
      const next = view.nextAttemptAt ? `; next at ${formatClock(view.nextAttemptAt).slice(0, 8)} (${formatUntil(view.nextAttemptAt, now)})` : '';
      return `retrying: attempt ${view.attempts} ended with ${lastOutcome(view)}${next}`;
    }
    default:
      return `${view.status} after ${attemptsText(view.attempts)}`;
  }
}
