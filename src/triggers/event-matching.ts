import type { EventSettings } from './sources/event.js';

/** An `event` trigger as the matcher sees it. */
export interface EventTrigger {
  name: string;
  function: string;
  settings: EventSettings;
}

/**
 * Whether an event of this type and source goes to a trigger with these settings (Knative
 * Broker/Trigger filter semantics: the type exactly, the source by prefix). Pure.
 */
export function eventMatches(settings: EventSettings, type: string, source: string): boolean {
  return type === settings.eventType && (settings.eventSource === undefined || source.startsWith(settings.eventSource));
}

/**
 * The triggers, of those given, that take an event of this type and source, in the order given.
 * Paused triggers are the caller's to leave out. Pure; a trigger manager with many triggers may
 * index them by `eventType` first and call this on the few that share the type.
 */
export function matchingTriggers(triggers: Iterable<EventTrigger>, type: string, source: string): Array<{ name: string; function: string }> {
  const found: Array<{ name: string; function: string }> = [];
  for (const candidate of triggers) if (eventMatches(candidate.settings, type, source)) found.push({ name: candidate.name, function: candidate.function });
  return found;
}
