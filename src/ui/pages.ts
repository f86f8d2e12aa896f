import type { VNode } from 'preact';
import type { Api } from './api.js';
import { html } from './html.js';
import { AsyncPage } from './pages/async.js';
import { FunctionPage } from './pages/function.js';
import { FunctionsPage } from './pages/functions.js';
import { InvocationPage } from './pages/invocation.js';
import { InvocationsPage } from './pages/invocations.js';
import { TriggersPage } from './pages/triggers.js';
import { UsagePage } from './pages/usage.js';
import type { Route } from './router.js';

/** What a page gets: the API with the signed-in token, and the route that chose it. */
export interface PageProps {
  api: Api;
  route: Route;
}

/**
 * A page of the dashboard: the first path part it answers (`#/<section>/…`), its title in the
 * navigation bar, and how it renders. This list is the one place pages are declared: a new page
 * is one more entry and one file under pages/.
 */
export interface PageEntry {
  section: string;
  title: string;
  render(props: PageProps): VNode;
}

export const PAGES: readonly PageEntry[] = [
  {
    section: 'functions',
    title: 'Functions',
    render: ({ api, route }) => {
      const name = route.parts[1];
      return name ? html`<${FunctionPage} key=${name} api=${api} name=${name} />` : html`<${FunctionsPage} api=${api} />`;
    },
  },
  {
    section: 'invocations',
    title: 'Invocations',
    render: ({ api, route }) => {
      const id = route.parts[1];
      return id ? html`<${InvocationPage} key=${id} api=${api} id=${id} functionHint=${route.query.get('function')} />` : html`<${InvocationsPage} api=${api} route=${route} />`;
    },
  },
  { section: 'usage', title: 'Usage', render: ({ api, route }) => html`<${UsagePage} api=${api} route=${route} />` },
  { section: 'async', title: 'Async', render: ({ api }) => html`<${AsyncPage} api=${api} />` },
  { section: 'triggers', title: 'Triggers', render: ({ api }) => html`<${TriggersPage} api=${api} />` },
];

/** The page for a route; the functions list for the empty route and unknown sections. */
export function pageFor(route: Route): PageEntry {
  return PAGES.find((page) => page.section === route.parts[0]) ?? (PAGES[0] as PageEntry);
}
