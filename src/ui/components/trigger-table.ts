import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { TriggerView } from '../../api/wire.js';
import type { Api } from '../api.js';
import { time } from '../format.js';
import { html } from '../html.js';
import { link } from '../router.js';
import { triggerSummary } from '../trigger-summary.js';

const TONE: Record<TriggerView['status'], string> = { starting: 'muted', active: 'ok', paused: 'muted', failing: 'bad' };

/**
 * Triggers, one row each: what fires them, their status (with the error when failing, and since
 * when), and pause / resume / remove. A refused action (a `read` token gets 403) shows the API's
 * message under the table; a successful one reloads the list through `onChanged`.
 */
export function TriggerTable({ api, triggers, onChanged, showFunction = true }: { api: Api; triggers: TriggerView[]; onChanged: () => void; showFunction?: boolean }): VNode {
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>(undefined);
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);

  const act = async (name: string, done: string, action: () => Promise<unknown>) => {
    setBusy(name);
    try {
      await action();
      setMessage({ text: done, error: false });
      onChanged();
    } catch (err) {
      setMessage({ text: `${name}: ${err instanceof Error ? err.message : String(err)}`, error: true });
    } finally {
      setBusy(undefined);
      setConfirming(undefined);
    }
  };
  const path = (name: string) => `/api/v1/triggers/${encodeURIComponent(name)}`;
  const pause = (t: TriggerView) => act(t.name, `Paused ${t.name}.`, () => api.post(`${path(t.name)}/pause`, {}));
  const resume = (t: TriggerView) => act(t.name, `Resumed ${t.name}.`, () => api.post(`${path(t.name)}/resume`, {}));
  const remove = (t: TriggerView) => act(t.name, `Removed ${t.name}.`, () => api.delete(path(t.name)));

  if (triggers.length === 0) return html`<p class="note">No triggers.</p>`;
  return html`<div>
    <table class="data" data-testid="triggers">
      <thead><tr><th>Name</th>${showFunction ? html`<th>Function</th>` : null}<th>Type</th><th>Settings</th><th>Status</th><th>Since</th><th></th></tr></thead>
      <tbody>
        ${triggers.map(
          (t) => html`<tr data-trigger=${t.name}>
            <td>${t.name}</td>
            ${showFunction ? html`<td><a href=${link('functions', t.function)}>${t.function}</a></td>` : null}
            <td>${t.type}</td>
            <td><code>${triggerSummary(t.type, t.settings)}</code></td>
            <td><span class=${`pill ${TONE[t.status]}`} data-testid="trigger-status">${t.status}</span>${t.error ? html`<div class="trigger-error">${t.error}</div>` : null}</td>
            <td>${time(t.since)}</td>
            <td class="actions">
              ${confirming === t.name
                ? html`<span class="confirm">Remove ${t.name}? <button type="button" class="danger" disabled=${busy === t.name} onClick=${() => remove(t)}>Remove</button> <button type="button" class="secondary" onClick=${() => setConfirming(undefined)}>Cancel</button></span>`
                : html`${t.state === 'paused'
                    ? html`<button type="button" disabled=${busy === t.name} onClick=${() => resume(t)}>Resume</button>`
                    : html`<button type="button" class="secondary" disabled=${busy === t.name} onClick=${() => pause(t)}>Pause</button>`}
                  <button type="button" class="secondary" onClick=${() => setConfirming(t.name)}>Remove…</button>`}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${message ? html`<p class=${message.error ? 'note error' : 'note'} role="status" data-testid="trigger-message">${message.text}</p>` : null}
  </div>`;
}
