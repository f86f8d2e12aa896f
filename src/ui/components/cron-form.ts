import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { TriggerRequest, TriggerView } from '../../api/wire.js';
import type { Api } from '../api.js';
import { html } from '../html.js';

/**
 * Creates a cron trigger (`POST /api/v1/triggers`): name, function, schedule and time zone. The
 * platform checks them (an invalid expression or zone answers 400 `INVALID_TRIGGER`, an existing
 * name 409 `TRIGGER_EXISTS`) and the form shows its message; other kinds are made with the CLI.
 */
export function CronForm({ api, functions, onCreated }: { api: Api; functions: string[]; onCreated: () => void }): VNode {
  const [name, setName] = useState('');
  const [fn, setFn] = useState('');
  const [schedule, setSchedule] = useState('0 * * * *');
  const [timezone, setTimezone] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>(undefined);
  const target = fn || functions[0] || '';

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const body: TriggerRequest = { name: name.trim(), function: target, type: 'cron', settings: { schedule: schedule.trim(), ...(timezone.trim() ? { timezone: timezone.trim() } : {}) } };
    try {
      const made = await api.post<TriggerView>('/api/v1/triggers', body);
      setMessage({ text: `Created ${made.name}.`, error: false });
      setName('');
      onCreated();
    } catch (err) {
      setMessage({ text: err instanceof Error ? err.message : String(err), error: true });
    } finally {
      setBusy(false);
    }
  };
  const value = (set: (v: string) => void) => (event: Event) => set((event.target as HTMLInputElement).value);

  return html`<form class="cron-form" data-testid="cron-form" onSubmit=${submit}>
    <div class="row">
      <label class="grow">Name <input name="trigger-name" required value=${name} onInput=${value(setName)} placeholder="nightly" /></label>
      <label class="grow">Function <select name="trigger-function" value=${target} onChange=${value(setFn)}>
        ${functions.map((f) => html`<option value=${f}>${f}</option>`)}
      </select></label>
      <label class="grow">Schedule <input name="schedule" required value=${schedule} onInput=${value(setSchedule)} placeholder="0 3 * * *" /></label>
      <label class="grow">Time zone <input name="timezone" value=${timezone} onInput=${value(setTimezone)} placeholder="UTC" /></label>
    </div>
    <button type="submit" disabled=${busy || target === ''}>Create cron trigger</button>
    ${message ? html`<p class=${message.error ? 'note error' : 'note'} role="status" data-testid="cron-form-message">${message.text}</p>` : null}
  </form>`;
}
