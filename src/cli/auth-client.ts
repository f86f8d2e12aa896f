import type { CreatedInvokeKey, CreatedToken, InvokeKeyList, InvokeKeyView, TokenList, TokenView, WhoAmI } from '../api/wire.js';
import type { NimbusClient } from './client.js';

/** Access control calls of the management API (the types are the API's own; no code is shared). */

export type TokenInfo = TokenView;
export type NewToken = CreatedToken;
export type KeyInfo = InvokeKeyView;
export type NewKey = CreatedInvokeKey;

/** The token the client sends, as the platform sees it. */
export type { WhoAmI } from '../api/wire.js';

export function whoami(client: NimbusClient): Promise<WhoAmI> {
  return client.json<WhoAmI>('GET', '/api/v1/whoami');
}

export function createToken(client: NimbusClient, name: string, scope: string): Promise<NewToken> {
  return client.json<NewToken>('POST', '/api/v1/tokens', { name, scope });
}

export async function listTokens(client: NimbusClient): Promise<TokenInfo[]> {
  return (await client.json<TokenList>('GET', '/api/v1/tokens')).tokens;
}

export async function revokeToken(client: NimbusClient, id: string): Promise<void> {
  await client.json<unknown>('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
}

const keysPath = (fn: string) => `/api/v1/functions/${encodeURIComponent(fn)}/keys`;

export function createKey(client: NimbusClient, fn: string, name?: string): Promise<NewKey> {
  return client.json<NewKey>('POST', keysPath(fn), name === undefined ? {} : { name });
}

export async function listKeys(client: NimbusClient, fn: string): Promise<KeyInfo[]> {
  return (await client.json<InvokeKeyList>('GET', keysPath(fn))).keys;
}

export async function revokeKey(client: NimbusClient, fn: string, id: string): Promise<void> {
  await client.json<unknown>('DELETE', `${keysPath(fn)}/${encodeURIComponent(id)}`);
}
