import type { SecretList, SecretView } from '../api/wire.js';
import type { NimbusClient } from './client.js';

/** A secret as the management API answers it: metadata only (the type is the API's own). */
export type SecretInfo = SecretView;

const path = (name: string) => `/api/v1/secrets/${encodeURIComponent(name)}`;

/**
 * The `/api/v1/secrets` calls, on top of the one NimbusClient (base URL, authentication, error
 * decoding). Kept apart from client.ts so the secrets feature stays in its own files.
 */
export const secretsApi = {
  /** `PUT /api/v1/secrets/{name}` with the raw value; `created` is false when a value was replaced. */
  async set(client: NimbusClient, name: string, value: Buffer): Promise<{ secret: SecretInfo; created: boolean }> {
    const res = await client.raw(path(name), {
      method: 'PUT',
      headers: { accept: 'application/json', 'content-type': 'application/octet-stream' },
      body: value,
    });
    const created = res.status === 201;
    return { secret: await client.decode<SecretInfo>(res), created };
  },

  async list(client: NimbusClient): Promise<SecretInfo[]> {
    return (await client.json<SecretList>('GET', '/api/v1/secrets')).secrets;
  },

  async remove(client: NimbusClient, name: string): Promise<void> {
    await client.json<unknown>('DELETE', path(name));
  },
};
