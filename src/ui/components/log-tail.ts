import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LogLine } from '../../api/wire.js';
import type { Api } from '../api.js';
import { html } from '../html.js';
import { link } from '../router.js';

/** Lines kept on screen; older ones scroll away. */
const KEEP = 500;

/** Log lines as a list: time, stream, invocation, message (text only: nothing is read as markup). */
export function LogLines({ lines, empty }: { lines: LogLine[]; empty: string }): VNode {
  if (lines.length === 0) return html`<p class="note">${empty}</p>`;
  return html`<ol class="logs">
    ${lines.map(
      (line) => html`<li class=${line.stream}>
        <time>${new Date(line.time).toLocaleTimeString(undefined, { hour12: false })}</time>
        ${line.invocationId ? html`<a class="inv" href=${link('invocations', line.invocationId)} title=${line.invocationId}>${line.invocationId.slice(0, 8)}</a>` : html`<span class="inv muted">–</span>`}
        <span class="msg">${line.message}</span>
      </li>`,
    )}
  </ol>`;
}

/**
 * The function's live log: the last 15 minutes, then new lines as they are written, read from the
 * logs API's follow mode (NDJSON over a fetch stream, which carries the token in a header, unlike
 * EventSource). Reconnects after a dropped stream.
 */
export function LogTail({ api, name }: { api: Api; name: string }): VNode {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState('connecting');
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    const follow = async () => {
      setLines([]);
      const res = await api.fetch(`/api/v1/functions/${encodeURIComponent(name)}/logs?follow=true&since=15m&limit=200`, controller.signal);
      setState('live');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let rest = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const chunk = rest + decoder.decode(value, { stream: true });
        const complete = chunk.split('\n');
        rest = complete.pop() ?? '';
        const parsed = complete.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as LogLine);
        if (parsed.length > 0) setLines((old) => [...old, ...parsed].slice(-KEEP));
      }
    };
    const run = () => {
      follow().then(
        () => {
          if (!controller.signal.aborted) retry = setTimeout(run, 3000);
        },
        (err: unknown) => {
          if (controller.signal.aborted) return;
          setState(`disconnected (${err instanceof Error ? err.message : String(err)}); retrying`);
          retry = setTimeout(run, 3000);
        },
      );
    };
    run();
    return () => {
      controller.abort();
      if (retry) clearTimeout(retry);
    };
  }, [api, name]);

  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return html`<div class="log-tail" data-testid="log-tail">
    <p class="muted small">Live: ${state}</p>
    <div class="log-box" ref=${box}><${LogLines} lines=${lines} empty="No log lines in the last 15 minutes." /></div>
  </div>`;
}
