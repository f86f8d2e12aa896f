import type { VNode } from 'preact';
import type { FunctionView } from '../../api/wire.js';
import { DASH, seconds, time } from '../format.js';
import { html } from '../html.js';

/** A function's settings in effect, as the API shows them (env values included: read scope sees them). */
export function Settings({ fn }: { fn: FunctionView }): VNode {
  const rows: [string, unknown][] = [
    ['Runtime', fn.protocol ? `${fn.runtime} (${fn.protocol})` : fn.runtime],
    ['Handler', fn.handler],
    ['Version', fn.version],
    ['Package', html`<code title=${fn.package}>${fn.package.slice(0, 12)}</code>`],
    ['URL', html`<code>${fn.url}</code>`],
    ['Invoke auth', fn.auth],
    ['Memory', `${fn.memory} MB`],
    ['Timeout', seconds(fn.timeout)],
    ['Idle timeout', seconds(fn.idleTimeout)],
    ['Concurrency', `${fn.concurrency} per instance`],
    ['Instances', `min ${fn.minInstances}, max ${fn.maxInstances}; now ${fn.readyInstances} ready of ${fn.instances}, ${fn.desired} desired`],
    ['Network', fn.network],
    ['Async', `${fn.asyncConcurrency === 0 ? 'held (0 at once: queued until raised)' : `${fn.asyncConcurrency} at once`}, ${fn.maxRetries} retries from ${seconds(fn.retryDelay)}, max age ${seconds(fn.maxEventAge)}`],
    ['Destinations', fn.onSuccess || fn.onFailure ? `on success: ${fn.onSuccess ?? DASH}; on failure: ${fn.onFailure ?? DASH}` : DASH],
    ['Environment', Object.keys(fn.env).length === 0 ? DASH : html`<table class="kv">${Object.entries(fn.env).map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</table>`],
    ['Secrets', fn.secrets.length === 0 ? DASH : fn.secrets.join(', ')],
    ['Deployed', `${time(fn.updatedAt)} (created ${time(fn.createdAt)})`],
  ];
  return html`<div data-testid="settings">
    ${fn.lastStartError ? html`<p class="note error" role="alert">Last start failed (${time(fn.lastStartError.at)}): ${fn.lastStartError.message}</p>` : null}
    <dl class="settings">${rows.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}</dl>
  </div>`;
}
