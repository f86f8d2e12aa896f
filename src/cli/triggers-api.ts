import type { TriggerList, TriggerPatchRequest, TriggerRequest, TriggerView } from '../api/wire.js';
import type { NimbusClient } from './client.js';

const path = (name: string) => `/api/v1/triggers/${encodeURIComponent(name)}`;

/** The `/api/v1/triggers` calls, on top of the one NimbusClient. */
export const triggersApi = {
  /** `POST /api/v1/triggers` (refused with TRIGGER_EXISTS when the name is taken). */
  create(client: NimbusClient, name: string, body: Omit<TriggerRequest, 'name'>): Promise<TriggerView> {
    return client.json<TriggerView>('POST', '/api/v1/triggers', { name, ...body });
  },

  /** `PUT /api/v1/triggers/{name}`: creates or replaces. */
  async put(client: NimbusClient, name: string, body: Omit<TriggerRequest, 'name'>): Promise<{ trigger: TriggerView; created: boolean }> {
    const res = await client.raw(path(name), { method: 'PUT', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = res.status === 201;
    return { trigger: await client.decode<TriggerView>(res), created };
  },

  update(client: NimbusClient, name: string, patch: TriggerPatchRequest): Promise<TriggerView> {
    return client.json<TriggerView>('PATCH', path(name), patch);
  },

  async list(client: NimbusClient, fn?: string): Promise<TriggerView[]> {
    return (await client.json<TriggerList>('GET', `/api/v1/triggers${fn === undefined ? '' : `?function=${encodeURIComponent(fn)}`}`)).triggers;
  },

  get(client: NimbusClient, name: string): Promise<TriggerView> {
    return client.json<TriggerView>('GET', path(name));
  },

  async remove(client: NimbusClient, name: string): Promise<void> {
    await client.json<unknown>('DELETE', path(name));
  },

  pause(client: NimbusClient, name: string): Promise<TriggerView> {
    return client.json<TriggerView>('POST', `${path(name)}/pause`);
  },

  resume(client: NimbusClient, name: string): Promise<TriggerView> {
    return client.json<TriggerView>('POST', `${path(name)}/resume`);
  },
};
