import './styles.css';
import { render, type VNode } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { WhoAmI } from '../api/wire.js';
import { Api } from './api.js';
import { html } from './html.js';
import { pageFor, PAGES } from './pages.js';
import { link, useRoute } from './router.js';
import { forgetToken, saveToken, savedToken } from './session.js';
import { SignIn } from './sign-in.js';

/** The dashboard: the sign-in form, or the navigation bar and the page of the current route. */
function App(): VNode {
  const [token, setToken] = useState<string | null>(savedToken);
  const [who, setWho] = useState<WhoAmI | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const route = useRoute();
  const signOut = (why?: string) => {
    forgetToken();
    setToken(null);
    setWho(undefined);
    setNotice(why);
  };
  // A token revoked while signed in: back to the sign-in form, with the API's reason.
  const api = useMemo(() => (token ? new Api(token, (error) => signOut(`Signed out: ${error.message}`)) : undefined), [token]);
  useEffect(() => {
    // Signed in from an earlier load of the page: who the token is, for the header.
    if (api && !who) api.get<WhoAmI>('/api/v1/whoami').then(setWho, () => undefined);
  }, [api]);

  if (!api) {
    return html`<${SignIn} notice=${notice} onSignedIn=${(value: string, me: WhoAmI) => {
      saveToken(value);
      setWho(me);
      setNotice(undefined);
      setToken(value);
    }} />`;
  }
  const page = pageFor(route);
  return html`<div class="shell">
    <header>
      <a class="brand" href=${link('functions')}>Nimbus</a>
      <nav>${PAGES.map((p) => html`<a href=${link(p.section)} class=${p === page ? 'current' : ''}>${p.title}</a>`)}</nav>
      <span class="who muted">${who ? `${who.name} (${who.scope})` : ''}</span>
      <button type="button" class="link" onClick=${() => signOut('Signed out.')}>Sign out</button>
    </header>
    <main>${page.render({ api, route })}</main>
  </div>`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
