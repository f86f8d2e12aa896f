/**
 * File triggers and the CloudEvents ingress on a real platform: events reach the function as
 * CloudEvents in binary mode through the async queue, a burst of writes is one event, and changes
 * made while the platform was stopped are delivered when it starts again.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { api, deploy, startPlatform, type TestPlatform, waitFor } from './harness.js';

/** Answers what it was given: the ce-* headers, the content type and the body. */
const ECHO = `export default { async fetch(request) {
  const headers = {};
  for (const [name, value] of request.headers) if (name.startsWith('ce-') || name === 'content-type') headers[name] = value;
  return Response.json({ headers, body: await request.text() });
} };`;

interface Delivered {
  trigger: string;
  headers: Record<string, string>;
  body: string;
}

/** The succeeded invocations of `fn`, oldest first, as the function saw them. */
async function delivered(platform: TestPlatform, fn: string): Promise<Delivered[]> {
  const list = (await api(platform.url, 'GET', `/api/v1/invocations?function=${fn}`)).json?.invocations as Array<Record<string, any>>;
  return list
    .filter((i) => i.status === 'succeeded')
    .reverse()
    .map((i) => ({ trigger: i.trigger as string, ...(JSON.parse(i.response.body as string) as { headers: Record<string, string>; body: string }) }));
}

const watchDir = mkdtempSync(path.join(tmpdir(), 'nimbus-watch-'));
after(() => rmSync(watchDir, { recursive: true, force: true }));

test('file events and posted CloudEvents reach the function, also across a restart', async () => {
  let platform = await startPlatform({ keepData: true });
  const { dataDir } = platform;
  try {
    await deploy(platform.url, 'echo', { file: 'index.js', content: ECHO }, { network: 'none' });
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers', { name: 'inbox', function: 'echo', type: 'file', settings: { path: watchDir, pattern: '*.csv' } })).status, 201);
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers', { name: 'orders', function: 'echo', type: 'event', settings: { eventType: 'com.example.order', eventSource: '/shop' } })).status, 201);
    await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/triggers/inbox')).json?.status === 'active', 10_000, 'the file trigger active');

    // A file written 11 times in a row, and one the pattern leaves out.
    writeFileSync(path.join(watchDir, 'a.csv'), 'id\n');
    for (let i = 0; i < 10; i++) appendFileSync(path.join(watchDir, 'a.csv'), `${i}\n`);
    writeFileSync(path.join(watchDir, 'notes.txt'), 'not a csv');
    const posted = await fetch(`${platform.url}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.token}`, 'ce-specversion': '1.0', 'ce-id': 'o-1', 'ce-source': '/shop/eu', 'ce-type': 'com.example.order', 'ce-tenant': 'acme', 'content-type': 'application/json' },
      body: '{"order": 1}',
    });
    assert.equal(posted.status, 202);
    assert.deepEqual(await posted.json(), { events: 1, deliveries: 1, triggers: [{ trigger: 'orders', function: 'echo', events: 1 }] });

    await waitFor(async () => (await delivered(platform, 'echo')).length >= 2, 20_000, 'two invocations');
    await sleep(500); // nothing more arrives (the burst was one event, notes.txt none)
    const first = await delivered(platform, 'echo');
    assert.equal(first.length, 2);
    const file = first.find((d) => d.trigger === 'inbox')!;
    assert.equal(file.headers['ce-type'], 'dev.nimbus.file.created');
    assert.equal(file.headers['ce-subject'], 'a.csv');
    assert.equal(file.headers['ce-filesize'], String(3 + 10 * 2));
    assert.equal(JSON.parse(file.body).path, path.join(watchDir, 'a.csv'));
    const event = first.find((d) => d.trigger === 'orders')!;
    assert.equal(event.body, '{"order": 1}', 'byte for byte');
    assert.equal(event.headers['ce-id'], 'o-1');
    assert.equal(event.headers['ce-tenant'], 'acme');
    assert.equal(event.headers['content-type'], 'application/json');

    // Changes made while the platform is stopped are delivered when it starts again.
    await platform.close();
    writeFileSync(path.join(watchDir, 'b.csv'), 'new');
    appendFileSync(path.join(watchDir, 'a.csv'), 'more\n');
    platform = await startPlatform({ dataDir, keepData: true });
    await waitFor(async () => (await delivered(platform, 'echo')).length >= 4, 20_000, 'the changes made while stopped');
    const later = (await delivered(platform, 'echo')).slice(2).map((d) => `${d.headers['ce-type']} ${d.headers['ce-subject']}`).sort();
    assert.deepEqual(later, ['dev.nimbus.file.created b.csv', 'dev.nimbus.file.modified a.csv']);
    unlinkSync(path.join(watchDir, 'b.csv'));
    await waitFor(async () => (await delivered(platform, 'echo')).some((d) => d.headers['ce-type'] === 'dev.nimbus.file.deleted'), 20_000, 'the deleted event');
  } finally {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('nimbus up --ingress-key-file: the key posts events to /events and nothing else; a short key refuses to start', async () => {
  const keyFile = path.join(watchDir, 'ingress.key');
  const key = 'k'.repeat(16) + '0123456789abcdef0123';
  writeFileSync(keyFile, `${key}\n`);
  const platform = await startPlatform({ ingressKeyFile: keyFile });
  try {
    await deploy(platform.url, 'echo', { file: 'index.js', content: ECHO }, { network: 'none' });
    assert.equal((await api(platform.url, 'POST', '/api/v1/triggers', { name: 'keyed', function: 'echo', type: 'event', settings: { eventType: 'com.example.keyed' } })).status, 201);
    const post = (headers: Record<string, string>) =>
      fetch(`${platform.url}/events`, { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'k-1', 'ce-source': '/x', 'ce-type': 'com.example.keyed', ...headers }, body: 'keyed' });
    const accepted = await post({ 'x-nimbus-ingress-key': key });
    assert.equal(accepted.status, 202);
    assert.equal(((await accepted.json()) as { deliveries: number }).deliveries, 1);
    const wrong = await post({ 'x-nimbus-ingress-key': `${key}x` });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('x-nimbus-error'), 'INVALID_TOKEN');
    // The key is no API token.
    const apiCall = await fetch(`${platform.url}/api/v1/functions`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(apiCall.status, 401);
    await waitFor(async () => (await delivered(platform, 'echo')).length === 1, 20_000, 'the keyed event');
  } finally {
    await platform.close();
  }
  writeFileSync(keyFile, 'short');
  await assert.rejects(startPlatform({ ingressKeyFile: keyFile }), (err: Error) => err.name === 'ServerOptionsError' && /at least 32 characters/.test(err.message));
});
