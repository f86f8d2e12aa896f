/**
 * Nothing accepted is lost: async invocations acknowledged with 202 survive a SIGKILL of the
 * platform in the middle of draining them, and each runs (at least once) after the restart.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { request } from 'undici';
import type { InvocationList } from '../../src/api/wire.js';
import { startNimbus } from '../cli/helpers.js';
import { api, deploy, useAdminToken, waitFor } from './harness.js';

const ACCEPTED = 2_000;
/** Concurrent senders while accepting. */
const SENDERS = 50;

test('async invocations accepted before a SIGKILL all run after the restart; the store and the queue pass integrity_check', async (t) => {
  // The function reports each execution here (it runs with network host to reach loopback).
  const ran = new Map<string, number>();
  const counter = createServer((req, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    ran.set(id, (ran.get(id) ?? 0) + 1);
    res.end();
  });
  await new Promise<void>((listening) => counter.listen(0, '127.0.0.1', listening));
  const counterUrl = `http://127.0.0.1:${(counter.address() as AddressInfo).port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-async-kill-'));
  let platform = startNimbus(['up', '--port', '0', '--data-dir', dataDir]);
  try {
    let [, url] = (await platform.waitFor(/^Nimbus serving on (\S+)$/m, 60_000)) as string[];
    await useAdminToken(url!, dataDir);
    await deploy(
      url!,
      'slow',
      {
        file: 'index.js',
        content: `export default async (req) => {
  const id = req.headers.get('x-nimbus-invocation-id');
  await fetch(process.env.COUNTER + '/ran?id=' + id);
  await new Promise((r) => setTimeout(r, 40));
  return new Response('done ' + id);
};`,
      },
      { network: 'host', env: { COUNTER: counterUrl }, asyncConcurrency: 16 },
    );

    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < ACCEPTED) {
          next++;
          const res = await request(`${url}/fn/slow`, { method: 'POST', headers: { prefer: 'respond-async' }, body: `n=${next}` });
          const body = (await res.body.json()) as { id: string };
          assert.equal(res.statusCode, 202);
          ids.push(body.id);
        }
      }),
    );
    assert.equal(ids.length, ACCEPTED);
    await waitFor(() => ran.size >= 300, 60_000, 'the drain to be under way');
    const ranBeforeKill = ran.size;
    platform.signal('SIGKILL');
    await platform.exited;
    assert.ok(ranBeforeKill < ACCEPTED, 'the platform was killed mid-drain');

    platform = startNimbus(['up', '--port', '0', '--data-dir', dataDir]);
    [, url] = (await platform.waitFor(/^Nimbus serving on (\S+)$/m, 60_000)) as string[];
    await useAdminToken(url!, dataDir);
    await waitFor(
      async () => {
        const left = (await api(url!, 'GET', '/api/v1/invocations?function=slow&status=queued&limit=1')).json as unknown as InvocationList;
        const running = (await api(url!, 'GET', '/api/v1/invocations?function=slow&status=running&limit=1')).json as unknown as InvocationList;
        return left.invocations.length === 0 && running.invocations.length === 0;
      },
      120_000,
      'every accepted invocation to run',
    );
    const statuses = new Map<string, number>();
    for (const id of ids) {
      const view = await api(url!, 'GET', `/api/v1/invocations/${id}`);
      const status = view.status === 200 ? (view.json as { status: string }).status : `http ${view.status}`;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(statuses), { succeeded: ACCEPTED });
    const missing = ids.filter((id) => !ran.has(id));
    assert.deepEqual(missing, [], 'accepted invocations that never ran');
    const duplicates = [...ran.values()].filter((n) => n > 1).length;
    // At-least-once: those running at the kill run again after the restart.
    t.diagnostic(`${ACCEPTED} accepted, ${ranBeforeKill} had run before the SIGKILL, ${duplicates} ran twice (running at the kill)`);
    assert.ok(duplicates <= 16 + 16, `${duplicates} invocations ran more than once: more than were running at the kill`);

    platform.signal('SIGTERM');
    await platform.exited;
    for (const file of ['nimbus.db', 'queue.db']) {
      const db = new BetterSqlite3(join(dataDir, file), { readonly: true });
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', file);
      db.close();
    }
  } finally {
    await platform.close();
    await new Promise<void>((closed) => counter.close(() => closed()));
    await rm(dataDir, { recursive: true, force: true });
  }
});
