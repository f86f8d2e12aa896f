import type { VNode } from 'preact';
import type { FunctionView, TriggerList } from '../../api/wire.js';
import { type Api, withQuery } from '../api.js';
import { FunctionCharts } from '../components/function-charts.js';
import { InvocationTable } from '../components/invocation-table.js';
import { InvokeForm } from '../components/invoke-form.js';
import { LogTail } from '../components/log-tail.js';
import { dataNote } from '../components/notes.js';
import { Settings } from '../components/settings.js';
import { TriggerTable } from '../components/trigger-table.js';
import { html } from '../html.js';
import type { InvocationPage } from '../observability.js';
import { link, linkWithQuery } from '../router.js';
import { useData } from '../use-data.js';
import { statusOf } from './functions.js';

/** One function: settings, charts of the last hour, an invoke form, its triggers, recent invocations, live logs. */
export function FunctionPage({ api, name }: { api: Api; name: string }): VNode {
  const fn = useData((signal) => api.get<FunctionView>(`/api/v1/functions/${encodeURIComponent(name)}`, signal), name, 5000);
  const recent = useData((signal) => api.get<InvocationPage>(withQuery('/api/v1/invocations', { function: name, limit: 20 }), signal), name, 3000);
  const triggers = useData((signal) => api.get<TriggerList>(withQuery('/api/v1/triggers', { function: name }), signal), name, 5000);
  if (!fn.data) return html`<section><h1>${name}</h1>${dataNote(fn, 'Function')}</section>`;
  const status = statusOf(fn.data);

  return html`<section class="function">
    <h1>${name} <span class=${`pill ${status.tone}`}>${status.label}</span></h1>
    ${dataNote(fn, 'Function')}
    <div class="columns">
      <div>
        <h2>Invoke</h2>
        <${InvokeForm} api=${api} fn=${fn.data} onInvoked=${() => {
          fn.reload();
          recent.reload();
        }} />
      </div>
      <div>
        <h2>Settings</h2>
        <${Settings} fn=${fn.data} />
      </div>
    </div>
    <h2>Last hour</h2>
    <${FunctionCharts} api=${api} name=${name} />
    <h2>Triggers <a class="small" href=${link('triggers')}>all</a></h2>
    ${dataNote(triggers, 'Triggers')}
    ${triggers.data ? html`<${TriggerTable} api=${api} triggers=${triggers.data.triggers} onChanged=${triggers.reload} showFunction=${false} />` : null}
    <h2>Recent invocations <a class="small" href=${linkWithQuery(['invocations'], { function: name })}>all</a></h2>
    ${dataNote(recent, 'Invocations')}
    ${recent.data ? html`<${InvocationTable} records=${recent.data.invocations} showFunction=${false} />` : null}
    <h2>Log</h2>
    <${LogTail} api=${api} name=${name} />
  </section>`;
}
