/**
 * Helpers for end-to-end tests of triggers (cron here; the broker, file and ingress kinds reuse
 * them): a function that answers each CloudEvent it receives with what it saw, the trigger API,
 * and a wait for the events a function received, read back from its invocation records.
 *
 *   const platform = await startPlatform();
 *   await deployCloudEventEcho(platform.url, 'echo');
 *   await createTrigger(platform.url, 'orders', { function: 'echo', type: 'nats', settings: { subject: 'orders.>' } });
 *   // publish …
 *   const events = await receivedEvents(platform.url, 'echo', 3);
 *   assert.equal(events[0].headers['ce-type'], 'dev.nimbus.nats.message');
 *   assert.deepEqual(events[0].body, payload);
 */
import { request } from 'undici';
import type { InvocationList, InvocationView, TriggerView } from '../../src/api/wire.js';
import { api, authHeaders, deploy, waitFor } from './harness.js';
import { responseBody } from './async-fixtures.js';

/**
 * A function that answers a CloudEvent with what it received, as JSON: method, path, the `ce-`
 * headers, `content-type` and `x-nimbus-trigger`, and the body in base64. With the environment
 * variable FAIL set it answers 500 instead (for retries and dead letters).
 */
export const CLOUDEVENT_ECHO = {
  file: 'index.js',
  content: `export default async (req) => {
  const headers = {};
  for (const [name, value] of req.headers) if (name.startsWith('ce-') || name === 'content-type' || name === 'x-nimbus-trigger') headers[name] = value;
  const body = Buffer.from(await req.arrayBuffer()).toString('base64');
  const url = new URL(req.url);
  return Response.json({ method: req.method, path: url.pathname + url.search, headers, body }, { status: process.env.FAIL ? 500 : 200 });
};`,
};

/** Deploys {@link CLOUDEVENT_ECHO} as `name`; `config` adds deploy settings (e.g. `{ env: { FAIL: '1' }, maxRetries: 1 }`). */
export function deployCloudEventEcho(url: string, name: string, config: Record<string, unknown> = {}) {
  // No network: the echo needs none, and pasta (outbound) is not available on every host.
  return deploy(url, name, CLOUDEVENT_ECHO, { network: 'none', ...config });
}

/** One event as the echo function received it, with its invocation record. */
export interface ReceivedEvent {
  invocation: InvocationView;
  method: string;
  path: string;
  /** The `ce-` headers, `content-type` and `x-nimbus-trigger`, lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** Creates a trigger through the API (`POST /api/v1/triggers`); throws unless it was created. */
export async function createTrigger(url: string, name: string, body: { function: string; type: string; settings?: Record<string, unknown>; state?: 'active' | 'paused' }): Promise<TriggerView> {
  const res = await api(url, 'POST', '/api/v1/triggers', { name, ...body });
  if (res.status !== 201) throw new Error(`creating trigger ${name} failed: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json as TriggerView;
}

/** The trigger as the API shows it now. */
export async function getTrigger(url: string, name: string): Promise<TriggerView> {
  return (await api(url, 'GET', `/api/v1/triggers/${name}`)).json as TriggerView;
}

/** Every async invocation record of `fn`, oldest first (all pages). */
export async function invocationsOf(url: string, fn: string): Promise<InvocationView[]> {
  const all: InvocationView[] = [];
  let cursor: string | null = null;
  do {
    const res = await request(`${url}/api/v1/invocations?function=${fn}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: authHeaders(url) });
    const page = (await res.body.json()) as InvocationList;
    all.push(...page.invocations);
    cursor = page.nextCursor;
  } while (cursor);
  return all.reverse();
}

/**
 * Waits until `fn` answered at least `count` events (records `succeeded`, or `dead` for a failing
 * echo when `settledAs` says so) and answers them oldest first, as the function saw them.
 */
export async function receivedEvents(url: string, fn: string, count: number, options: { timeoutMs?: number; settledAs?: 'succeeded' | 'dead' } = {}): Promise<ReceivedEvent[]> {
  const wanted = options.settledAs ?? 'succeeded';
  let settled: InvocationView[] = [];
  await waitFor(
    async () => {
      settled = (await invocationsOf(url, fn)).filter((record) => record.status === wanted && record.response !== null);
      return settled.length >= count;
    },
    options.timeoutMs ?? 30_000,
    `${count} ${wanted} invocations of ${fn}`,
  );
  return settled.map((invocation) => {
    const seen = JSON.parse(responseBody(invocation).toString('utf8')) as { method: string; path: string; headers: Record<string, string>; body: string };
    return { invocation, method: seen.method, path: seen.path, headers: seen.headers, body: Buffer.from(seen.body, 'base64') };
  });
}
