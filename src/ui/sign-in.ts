import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { WhoAmI } from '../api/wire.js';
import { Api } from './api.js';
import { html } from './html.js';

/**
 * Sign in with an API token: it is checked with `GET /api/v1/whoami`, and a refused token shows
 * the API's own message (unknown token, rate limited…).
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string, who: WhoAmI) => void; notice: string | undefined }): VNode {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (value === '') {
      setError('Paste an API token first.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(value, await new Api(value).get<WhoAmI>('/api/v1/whoami'));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="sign-in">
    <form onSubmit=${submit} data-testid="sign-in">
      <h1>Nimbus</h1>
      <p>Sign in with an API token. The admin token is in <code>${'<data-dir>/admin.token'}</code>; a read-only one is made with <code>nimbus tokens create --scope read</code>.</p>
      ${notice ? html`<p class="note">${notice}</p>` : null}
      <label>API token <input name="token" type="password" autocomplete="off" spellcheck="false" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} /></label>
      ${error ? html`<p class="note error" role="alert" data-testid="sign-in-error">${error}</p>` : null}
      <button type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
      <p class="muted small">The token stays in this tab (session storage) and is sent only to this platform's API.</p>
    </form>
  </main>`;
}
