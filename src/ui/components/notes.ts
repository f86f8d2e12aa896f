import type { VNode } from 'preact';
import { ApiError } from '../api.js';
import { html } from '../html.js';
import type { Loaded } from '../use-data.js';

/**
 * What to show instead of (or above) a section's data: "loading", "not available on this platform"
 * for a route this platform does not have, or the API's error message. Null when there is data.
 */
export function dataNote(loaded: Pick<Loaded<unknown>, 'data' | 'error' | 'loading'>, what: string): VNode | null {
  const { error, data, loading } = loaded;
  if (error instanceof ApiError && error.notAvailable) {
    return html`<p class="note unavailable" data-testid="not-available">${what}: not available on this platform.</p>`;
  }
  if (error) return html`<p class="note error" role="alert">${what}: ${error.message}</p>`;
  if (data === undefined && loading) return html`<p class="note">Loading ${what.toLowerCase()}…</p>`;
  return null;
}
