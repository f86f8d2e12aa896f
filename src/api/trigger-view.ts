import type { TriggerRecord } from '../store/trigger-types.js';
import type { TriggerView } from './wire.js';

/** A stored trigger as the API shows it: a paused trigger shows `paused`, whatever its source last said. */
export function triggerView(record: TriggerRecord): TriggerView {
  const paused = record.state === 'paused';
  return {
    name: record.name,
    function: record.function,
    type: record.type,
    settings: record.settings as Record<string, unknown>,
    state: record.state,
    status: paused ? 'paused' : record.status.state,
    error: paused ? null : (record.status.error ?? null),
    since: new Date(paused ? record.updatedAt : record.status.since).toISOString(),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}
