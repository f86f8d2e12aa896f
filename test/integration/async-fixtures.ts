import { request } from 'undici';
import type { InvocationView } from '../../src/api/wire.js';
import { api, authHeaders, waitFor } from './harness.js';

/**
 * A function for async tests: answers `status` (default 500) until the attempt reaches `okAt`
 * (default 1), sleeps `ms` first when asked, and echoes what it saw as JSON.
 */
export const FLAKY_FUNCTION = {
  file: 'index.js',
  content: `export default async (req) => {
  const url = new URL(req.url);
  const q = url.searchParams;
  const attempt = Number(req.headers.get('x-nimbus-attempt'));
  if (q.has('ms')) await new Promise((r) => setTimeout(r, Number(q.get('ms'))));
  const body = Buffer.from(await req.arrayBuffer());
  if (attempt < Number(q.get('okAt') ?? 1)) {
    const headers = q.has('retryAfter') ? { 'retry-after': q.get('retryAfter') } : {};
    return new Response('not yet ' + attempt, { status: Number(q.get('status') ?? 500), headers });
  }
  return Response.json({ attempt, id: req.headers.get('x-nimbus-invocation-id'), method: req.method, path: url.pathname + url.search, body: body.toString('base64'), type: req.headers.get('content-type') });
};`,
};

/** Sends an async invocation; answers the status, headers and parsed body. */
export async function invokeAsync(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; via?: 'prefer' | 'path' } = {}) {
  const viaPath = options.via === 'path';
  const res = await request(`${url}${viaPath ? '/async/' : '/fn/'}${path}`, {
    method: (options.method ?? (options.body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: { ...(viaPath ? {} : { prefer: 'respond-async' }), ...options.headers },
    body: options.body ?? null,
  });
  const text = await res.body.text();
  let json: { id?: string; status?: string; error?: { code: string } } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: the test looks at the status
  }
  return { status: res.statusCode, headers: res.headers, json };
}

/** The invocation's record as the API shows it. */
export async function invocation(url: string, id: string): Promise<InvocationView> {
  const res = await api(url, 'GET', `/api/v1/invocations/${id}`);
  if (res.status !== 200) throw new Error(`GET invocation ${id}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json as unknown as InvocationView;
}

/** Waits until the invocation reaches one of `statuses`; answers its record. */
export async function settled(url: string, id: string, statuses: readonly string[] = ['succeeded', 'failed', 'dead'], timeoutMs = 30_000): Promise<InvocationView> {
  let last: InvocationView | undefined;
  await waitFor(
    async () => {
      last = await invocation(url, id);
      return statuses.includes(last.status);
    },
    timeoutMs,
    `invocation ${id} to be ${statuses.join(' or ')}`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
  });
  return last!;
}

/** The response body of an invocation record, decoded. */
export function responseBody(view: InvocationView): Buffer {
  const response = view.response;
  if (!response) throw new Error(`invocation ${view.id} has no response: ${JSON.stringify(view)}`);
  return Buffer.from(response.body, response.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}

export { authHeaders };
