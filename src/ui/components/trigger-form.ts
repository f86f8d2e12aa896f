import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { TriggerRequest, TriggerView } from '../../api/wire.js';
import type { Api } from '../api.js';
import { html } from '../html.js';
import { fieldsOf, initialValues, settingsFrom, TRIGGER_KINDS } from '../trigger-fields.js';

/**
 * Creates a trigger of any kind (`POST /api/v1/triggers`): name, function, kind, and the kind's
 * settings (trigger-fields.ts). The platform checks them (bad settings answer 400
 * `INVALID_TRIGGER`, a broker it cannot reach 400 `TRIGGER_SOURCE_UNREACHABLE`, an existing name
 * 409 `TRIGGER_EXISTS`), and the form shows its message.
 */
export function TriggerForm({ api, functions, onCreated }: { api: Api; functions: string[]; onCreated: () => void }): VNode {
  const [name, setName] = useState('');
  const [fn, setFn] = useState('');
  const [type, setType] = useState('cron');
  const [values, setValues] = useState<Record<string, string>>(() => initialValues('cron'));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | undefined>(undefined);
  const target = fn || functions[0] || '';
  const fields = fieldsOf(type);
  const hints = fields.map((field) => field.hint).filter((hint): hint is string => hint !== undefined);

  const choose = (next: string) => {
    setType(next);
    setValues(initialValues(next));
    setMessage(undefined);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const body: TriggerRequest = { name: name.trim(), function: target, type, settings: settingsFrom(type, values) };
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
  const text = (set: (v: string) => void) => (event: Event) => set((event.target as HTMLInputElement).value);

  return html`<form class="trigger-form" data-testid="trigger-form" onSubmit=${submit}>
    <div class="row">
      <label class="grow">Name <input name="trigger-name" required value=${name} onInput=${text(setName)} placeholder="nightly" /></label>
      <label class="grow">Function <select name="trigger-function" value=${target} onChange=${text(setFn)}>
        ${functions.map((f) => html`<option value=${f}>${f}</option>`)}
      </select></label>
      <label class="grow">Kind <select name="trigger-type" value=${type} onChange=${text(choose)}>
        ${TRIGGER_KINDS.map((kind) => html`<option value=${kind.type}>${kind.label}</option>`)}
      </select></label>
    </div>
    <div class="row">
      ${fields.map((field) => html`<label class="grow">${field.label} <input
        name=${field.key}
        required=${field.required === true}
        value=${values[field.key] ?? ''}
        placeholder=${field.placeholder ?? ''}
        onInput=${text((v) => setValues((old) => ({ ...old, [field.key]: v })))}
      /></label>`)}
    </div>
    ${hints.map((hint) => html`<p class="muted">${hint}</p>`)}
    <button type="submit" disabled=${busy || target === ''}>Create trigger</button>
    ${message ? html`<p class=${message.error ? 'note error' : 'note'} role="status" data-testid="trigger-form-message">${message.text}</p>` : null}
  </form>`;
}
