import type { VNode } from 'preact';
import { DASH, ms } from '../format.js';
import { html } from '../html.js';

/** Phase timings as small labelled figures (`queue 0.4 ms · start 3.6 ms · handler 1.1 ms`). */
export function Phases({ phases }: { phases: Record<string, number | null | undefined> | null | undefined }): VNode {
  const entries = Object.entries(phases ?? {}).filter(([, value]) => typeof value === 'number');
  if (entries.length === 0) return html`<span class="muted">${DASH}</span>`;
  return html`<span class="phases">${entries.map(([name, value]) => html`<span class="phase"><span class="muted">${name}</span> ${ms(value)}</span>`)}</span>`;
}
