import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { api, deploy, startPlatform, waitFor } from './harness.js';

/** A function that holds each request for a while, so requests overlap and need capacity. */
const SLOW = (tag: string, holdMs: number) => ({
  file: 'index.js',
  content: `export default async () => { await new Promise((r) => setTimeout(r, ${holdMs})); return new Response('${tag}'); };`,
});

describe('scaling', () => {
  test('a burst of 200 concurrent requests from zero is served completely, then scales back to zero', async () => {
    const platform = await startPlatform();
    // Enough connections that all 200 requests are in flight at once.
    const agent = new Agent({ connections: 256 });
    try {
      await deploy(platform.url, 'bursty', SLOW('ok', 100), { concurrency: 10, maxInstances: 30, idleTimeout: '2s' });
      assert.equal((await api(platform.url, 'GET', '/api/v1/functions/bursty')).json!.instances, 0);
      let peak = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          peak = Math.max(peak, (await api(platform.url, 'GET', '/api/v1/functions/bursty')).json!.instances);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const results = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const res = await request(`${platform.url}/fn/bursty`, { dispatcher: agent });
          return { status: res.statusCode, body: await res.body.text(), error: res.headers['x-nimbus-error'] };
        }),
      );
      polling = false;
      await poller;
      const failed = results.filter((r) => r.status !== 200 || r.body !== 'ok');
      assert.deepEqual(failed, [], `${failed.length} of 200 failed`);
      // 200 at concurrency 10 needs 20 instances; the queue lets fewer do if they come in time.
      assert.ok(peak >= 5 && peak <= 30, `peak instances ${peak}`);
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/bursty')).json!.instances === 0, 15_000, 'scale back to zero');
    } finally {
      await agent.close();
      await platform.close();
    }
  });

  test('steady load through five redeploys and a scale-down: no errors, every answer from old or new code', async () => {
    const platform = await startPlatform();
    try {
      await deploy(platform.url, 'rolling', SLOW('v0', 20), { concurrency: 4, maxInstances: 8 });
      const seen = new Set<string>();
      const errors: string[] = [];
      let running = true;
      let sent = 0;
      const client = async () => {
        while (running) {
          sent++;
          try {
            const res = await request(`${platform.url}/fn/rolling`);
            const body = await res.body.text();
            if (res.statusCode !== 200) errors.push(`${res.statusCode} ${body}`);
            else seen.add(body);
          } catch (err) {
            errors.push(String(err));
          }
        }
      };
      const clients = Array.from({ length: 12 }, client);
      for (let v = 1; v <= 5; v++) {
        await new Promise((r) => setTimeout(r, 300));
        const fn = await deploy(platform.url, 'rolling', SLOW(`v${v}`, 20));
        assert.equal(fn.version, v + 1);
      }
      // Scale down: fewer instances allowed than the load wants; requests queue, none fail.
      await deploy(platform.url, 'rolling', SLOW('v6', 20), { maxInstances: 1 });
      await new Promise((r) => setTimeout(r, 500));
      running = false;
      await Promise.all(clients);
      assert.deepEqual(errors, []);
      // Not a throughput check (each redeploy makes every client wait for new instances, and how
      // long depends on the machine): it only proves the load kept flowing, several rounds a client.
      assert.ok(sent >= 36, `sent ${sent}`);
      for (const body of seen) assert.match(body, /^v[0-6]$/);
      assert.ok(seen.has('v6'), 'the last version served');
      const fn = await api(platform.url, 'GET', '/api/v1/functions/rolling');
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/rolling')).json!.instances <= 1, 5000, 'old instances drained');
      assert.equal(fn.json!.maxInstances, 1);
    } finally {
      await platform.close();
    }
  });

  test('min instances are running before any request, and get reports the desired count', async () => {
    const platform = await startPlatform();
    try {
      await deploy(platform.url, 'always-on', SLOW('on', 0), { minInstances: 2 });
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/always-on')).json!.readyInstances === 2, 10_000, 'two ready instances');
      const fn = (await api(platform.url, 'GET', '/api/v1/functions/always-on')).json!;
      assert.equal(fn.minInstances, 2);
      assert.equal(fn.desired, 2);
      const res = await request(`${platform.url}/fn/always-on`);
      assert.equal(res.headers['x-nimbus-cold-start'], 'false', 'served by a running instance');
      await res.body.dump();
      const bad = await api(platform.url, 'PUT', '/api/v1/functions/always-on', { package: fn.package, minInstances: 5, maxInstances: 2 });
      assert.equal(bad.status, 400);
      assert.equal(bad.json!.error.details.field, 'minInstances');
    } finally {
      await platform.close();
    }
  });

  test('the wait for capacity ends at the function timeout when that is shorter than the cap: 503, not 504', async () => {
    const platform = await startPlatform({ maxQueueWaitMs: 10_000 });
    try {
      // Loading takes 3 s (busy at module level), the timeout is 1 s: the request never gets an instance.
      const slowLoad = { file: 'index.js', content: 'const end = Date.now() + 3000; while (Date.now() < end); export default () => new Response("x");' };
      await deploy(platform.url, 'slowload', slowLoad, { timeout: '1s' });
      const started = Date.now();
      const waited = await request(`${platform.url}/fn/slowload`);
      const elapsed = Date.now() - started;
      assert.equal(waited.statusCode, 503);
      assert.equal(waited.headers['x-nimbus-error'], 'FUNCTION_OVERLOADED');
      assert.equal(waited.headers['retry-after'], '1');
      assert.match(((await waited.body.json()) as { error: { message: string } }).error.message, /no free capacity within its timeout of 1s/);
      assert.ok(elapsed >= 800 && elapsed < 2500, `answered after ${elapsed} ms`);
    } finally {
      await platform.close();
    }
  });

  test('past the queue bounds the answer is 503 FUNCTION_OVERLOADED with Retry-After', async () => {
    const platform = await startPlatform({ maxQueue: 2, maxQueueWaitMs: 1500 });
    try {
      // One instance, one request at a time, already running: the first request never queues.
      await deploy(platform.url, 'narrow', SLOW('x', 3000), { concurrency: 1, maxInstances: 1, minInstances: 1 });
      await waitFor(async () => (await api(platform.url, 'GET', '/api/v1/functions/narrow')).json!.readyInstances === 1, 10_000, 'the instance');
      const first = request(`${platform.url}/fn/narrow`);
      await new Promise((r) => setTimeout(r, 200));
      const queuedAt = Date.now();
      const queued = [request(`${platform.url}/fn/narrow`), request(`${platform.url}/fn/narrow`)];
      await new Promise((r) => setTimeout(r, 100));
      // A full queue: refused at once, not after the wait bound.
      const started = Date.now();
      const overflow = await request(`${platform.url}/fn/narrow`);
      assert.ok(Date.now() - started < 1000, `refused after ${Date.now() - started} ms`);
      assert.equal(overflow.statusCode, 503);
      assert.equal(overflow.headers['x-nimbus-error'], 'FUNCTION_OVERLOADED');
      assert.equal(overflow.headers['retry-after'], '1');
      await overflow.body.dump();
      // The queued ones wait 1.5 s at most (the instance is busy for 3 s), then get the same answer.
      for (const res of await Promise.all(queued)) {
        assert.equal(res.statusCode, 503);
        assert.equal(res.headers['x-nimbus-error'], 'FUNCTION_OVERLOADED');
        await res.body.dump();
      }
      const waited = Date.now() - queuedAt;
      assert.ok(waited >= 1400 && waited < 2900, `queued requests answered after ${waited} ms`);
      const done = await first;
      assert.equal(done.statusCode, 200);
      await done.body.dump();
    } finally {
      await platform.close();
    }
  });
  test('a runtime process serves one function only: never reused for another', async () => {
    const platform = await startPlatform();
    try {
      // A per-process identity (PIDs repeat across PID namespaces: every sandboxed runtime is PID 1).
      const pidOf = { file: 'index.js', content: 'const id = crypto.randomUUID(); export default () => new Response(id);' };
      const pids = new Map<string, string>();
      for (const name of ['first', 'second', 'third']) {
        await deploy(platform.url, name, pidOf);
        const res = await request(`${platform.url}/fn/${name}`);
        pids.set(name, await res.body.text());
        if (name === 'first') {
          // Its instance stops; the process must not come back for another function.
          await api(platform.url, 'DELETE', '/api/v1/functions/first');
        }
      }
      assert.equal(new Set(pids.values()).size, 3, JSON.stringify([...pids]));
    } finally {
      await platform.close();
    }
  });
});
