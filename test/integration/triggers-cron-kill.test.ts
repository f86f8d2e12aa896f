/**
 * A cron trigger survives a SIGKILL of the platform: after the restart it keeps ticking, and no
 * tick reaches the function twice, whether the kill came between storing a tick and recording it
 * as fired or not (catch-up fires the latest missed tick once; the event id dedups the rest).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startNimbus } from '../cli/helpers.js';
import { useAdminToken, waitFor } from './harness.js';
import { createTrigger, deployCloudEventEcho, invocationsOf, receivedEvents } from './trigger-fixtures.js';

test('a cron trigger after a SIGKILL: ticking again after the restart, no tick delivered twice', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-cron-kill-'));
  let platform = startNimbus(['up', '--port', '0', '--data-dir', dataDir]);
  try {
    let [, url] = (await platform.waitFor(/^Nimbus serving on (\S+)$/m, 60_000)) as string[];
    await useAdminToken(url!, dataDir);
    await deployCloudEventEcho(url!, 'echo');
    await createTrigger(url!, 'tick', { function: 'echo', type: 'cron', settings: { schedule: '* * * * * *', catchUp: true } });
    await receivedEvents(url!, 'echo', 3);
    platform.signal('SIGKILL');
    await platform.exited;

    platform = startNimbus(['up', '--port', '0', '--data-dir', dataDir]);
    [, url] = (await platform.waitFor(/^Nimbus serving on (\S+)$/m, 60_000)) as string[];
    await useAdminToken(url!, dataDir);
    const before = (await invocationsOf(url!, 'echo')).length;
    await waitFor(async () => (await invocationsOf(url!, 'echo')).length >= before + 3, 30_000, 'ticks after the restart');
    const all = await invocationsOf(url!, 'echo');
    const events = await receivedEvents(url!, 'echo', all.length);
    const ids = events.map((e) => e.headers['ce-id']);
    assert.equal(new Set(ids).size, ids.length, `each tick once: ${ids.join(' ')}`);
  } finally {
    platform.signal('SIGKILL');
    await platform.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
