import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { FunctionView } from '../../api/wire.js';
import type { Api } from '../api.js';
import { ms, serverTiming } from '../format.js';
import { html } from '../html.js';
import { link } from '../router.js';
import { Phases } from './phases.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** What the function (or the platform) answered to an invocation from the form. */
interface InvokeResult {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
  durationMs: number;
  invocationId: string | null;
  phases: Record<string, number>;
  cold: string | null;
}

/** `Name: value` lines into headers; blank lines and lines without a colon are skipped. */
function parseHeaders(text: string): [string, string][] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.includes(':'))
    .map((line) => [line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()]);
}

/** JSON bodies indented for reading; anything else as it came. */
function readable(body: string, type: string | null): string {
  if (!type?.includes('json')) return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * Invokes the function from the page, same origin, at `/fn/<name><path>`: method, path, headers,
 * body, and its invoke key (`x-nimbus-key`) when the function takes keys. The signed-in token goes
 * in `x-nimbus-token` (never forwarded to the function), so a failure shows its reason, as for
 * `nimbus invoke`. With "async" the request is queued (`Prefer: respond-async`) and answered 202.
 */
export function InvokeForm({ api, fn, onInvoked }: { api: Api; fn: FunctionView; onInvoked?: () => void }): VNode {
  const [method, setMethod] = useState('GET');
  const [path, setPath] = useState('/');
  const [headers, setHeaders] = useState('');
  const [body, setBody] = useState('');
  const [key, setKey] = useState('');
  const [queued, setQueued] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<InvokeResult | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const withBody = method !== 'GET' && method !== 'HEAD';

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setFailure(undefined);
    const sent = new Headers(parseHeaders(headers));
    sent.set('x-nimbus-token', api.token);
    if (key.trim() !== '') sent.set('x-nimbus-key', key.trim());
    if (queued) sent.set('prefer', 'respond-async');
    const target = `/fn/${encodeURIComponent(fn.name)}${path.startsWith('/') ? path : `/${path}`}`;
    const started = performance.now();
    try {
      const res = await fetch(target, { method, headers: sent, ...(withBody && body !== '' ? { body } : {}) });
      const text = await res.text();
      setResult({
        status: res.status,
        statusText: res.statusText,
        headers: [...res.headers.entries()],
        body: readable(text, res.headers.get('content-type')),
        durationMs: performance.now() - started,
        invocationId: res.headers.get('x-nimbus-invocation-id'),
        phases: serverTiming(res.headers.get('server-timing')),
        cold: res.headers.get('x-nimbus-cold-start'),
      });
      onInvoked?.();
    } catch (err) {
      setFailure(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="invoke" onSubmit=${submit} data-testid="invoke-form">
    <div class="row">
      <label>Method <select name="method" value=${method} onChange=${(e: Event) => setMethod((e.target as HTMLSelectElement).value)}>
        ${METHODS.map((m) => html`<option value=${m}>${m}</option>`)}
      </select></label>
      <label class="grow">Path <input name="path" value=${path} onInput=${(e: Event) => setPath((e.target as HTMLInputElement).value)} /></label>
      <label class="check"><input type="checkbox" name="async" checked=${queued} onChange=${(e: Event) => setQueued((e.target as HTMLInputElement).checked)} /> async</label>
    </div>
    ${fn.auth === 'key'
      ? html`<label><span>Invoke key (<code>x-nimbus-key</code>: this function takes keys)</span> <input name="key" type="password" autocomplete="off" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} /></label>`
      : null}
    <label><span>Headers (one <code>Name: value</code> a line)</span> <textarea name="headers" rows="2" value=${headers} onInput=${(e: Event) => setHeaders((e.target as HTMLTextAreaElement).value)}></textarea></label>
    ${withBody ? html`<label>Body <textarea name="body" rows="4" value=${body} onInput=${(e: Event) => setBody((e.target as HTMLTextAreaElement).value)}></textarea></label>` : null}
    <div class="row"><button type="submit" disabled=${busy}>${busy ? 'Invoking…' : 'Invoke'}</button></div>
    ${failure ? html`<p class="note error" role="alert">The request failed: ${failure}</p>` : null}
    ${result ? html`<${Result} result=${result} />` : null}
  </form>`;
}

function Result({ result }: { result: InvokeResult }): VNode {
  const ok = result.status < 400;
  return html`<section class="result" data-testid="invoke-result">
    <p>
      <strong class=${ok ? 'ok' : 'bad'} data-testid="invoke-status">${result.status} ${result.statusText}</strong>
      <span class="muted"> in ${ms(result.durationMs)} (browser)</span>
      ${result.cold === 'true' ? html` <span class="tag">cold start</span>` : null}
    </p>
    <p>Phases: <${Phases} phases=${result.phases} /></p>
    ${result.invocationId ? html`<p>Invocation <a href=${link('invocations', result.invocationId)}><code>${result.invocationId}</code></a></p>` : null}
    <details><summary>Headers (${result.headers.length})</summary>
      <table class="kv">${result.headers.map(([name, value]) => html`<tr><th>${name}</th><td>${value}</td></tr>`)}</table>
    </details>
    <pre class="body" data-testid="invoke-body">${result.body === '' ? '(empty body)' : result.body}</pre>
  </section>`;
}
