import type { VNode } from 'preact';
import type { FunctionList, TriggerList } from '../../api/wire.js';
import type { Api } from '../api.js';
import { dataNote } from '../components/notes.js';
import { TriggerForm } from '../components/trigger-form.js';
import { TriggerTable } from '../components/trigger-table.js';
import { html } from '../html.js';
import { useData } from '../use-data.js';

/** Every trigger with its state (`GET /api/v1/triggers`), pause / resume / remove, and a form to create one of any kind. */
export function TriggersPage({ api }: { api: Api }): VNode {
  const triggers = useData((signal) => api.get<TriggerList>('/api/v1/triggers', signal), 'triggers', 5000);
  const functions = useData((signal) => api.get<FunctionList>('/api/v1/functions', signal), 'functions');
  return html`<section>
    <h1>Triggers</h1>
    ${dataNote(triggers, 'Triggers')}
    ${triggers.data ? html`<${TriggerTable} api=${api} triggers=${triggers.data.triggers} onChanged=${triggers.reload} />` : null}
    <h2>New trigger</h2>
    <${TriggerForm} api=${api} functions=${(functions.data?.functions ?? []).map((f) => f.name)} onCreated=${triggers.reload} />
  </section>`;
}
