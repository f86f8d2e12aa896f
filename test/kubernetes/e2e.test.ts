/**
 * The whole platform on the Kubernetes backend (`backend: 'kubernetes'`, a kubeconfig file), against
 * the test API server: deploy, invoke, a burst from zero to several pods and back to zero, a
 * redeploy under load with no failed request, a pod deleted from under it, and a watch that drops.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LABELS } from '../../src/providers/kubernetes/labels.js';
import { LabelSelector } from './api-server/labels.js';
import { api, deploy, invoke, startPlatform, type TestPlatform, waitFor } from '../integration/harness.js';
import { startTestCluster, TEST_IMAGES, type TestCluster } from './test-cluster.js';

const SLOW = (tag: string, holdMs: number) => ({
  file: 'index.js',
  content: `export default async () => { await new Promise((r) => setTimeout(r, ${holdMs})); return new Response('${tag}'); };`,
});

describe('nimbus on the kubernetes backend (test API server)', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let platform: TestPlatform;
  const kubeconfig = join(tmpdir(), `nimbus-kubeconfig-${process.pid}.json`);
  const podsOf = (fn: string) => cluster.api.store.list(cluster.namespace, LabelSelector.parse(`${LABELS.function}=${fn}`)).items.filter((p) => !p.metadata.deletionTimestamp);
  const instancesOf = async (fn: string) => (await api(platform.url, 'GET', `/api/v1/functions/${fn}`)).json!.instances as number;
  /**
   * Whether the platform has let go of the `removed` pods: its instance count matches the pods of
   * the function that are left. Not simply zero: the function served a request moments ago, so the
   * autoscaler keeps one instance warm and may already have claimed a replacement.
   */
  const forgot = async (fn: string, removed: string[]) => {
    const left = podsOf(fn).map((p) => p.metadata.name!);
    return left.every((name) => !removed.includes(name)) && (await instancesOf(fn)) === left.length;
  };

  before(async () => {
    cluster = await startTestCluster({ watchLifetimeMs: 5000 });
    // A kubeconfig file, as `nimbus up --kubeconfig` reads it (JSON is YAML).
    writeFileSync(kubeconfig, cluster.kubeConfig.exportConfig());
    platform = await startPlatform({
      sandbox: 'process',
      backend: 'kubernetes',
      warmPoolSize: 1,
      kubernetes: { kubeconfig, namespace: cluster.namespace, images: TEST_IMAGES, packageHost: '127.0.0.1', packagePort: 0 },
    });
  });
  after(async () => {
    await platform?.close();
    await cluster?.close();
    rmSync(kubeconfig, { force: true });
  });

  test('deploy and invoke: the function runs in a pod labelled with its name', async () => {
    await deploy(platform.url, 'hello', { file: 'index.js', content: 'export default () => new Response("hello from a pod");' });
    const res = await invoke(platform.url, 'hello');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'hello from a pod');
    assert.equal(podsOf('hello').length, 1);
  });

  test("the function's output reaches its log, tagged with the invocation id", async () => {
    await deploy(platform.url, 'chatty', { file: 'index.js', content: 'export default (req) => { console.log("served", new URL(req.url).pathname); return new Response("ok"); };' });
    const res = await invoke(platform.url, 'chatty/first');
    assert.equal(res.status, 200);
    const id = res.headers['x-nimbus-invocation-id'];
    await waitFor(async () => JSON.stringify((await api(platform.url, 'GET', '/api/v1/functions/chatty/logs')).json).includes('served /first'), 10_000, 'the line in the log');
    const { json } = await api(platform.url, 'GET', '/api/v1/functions/chatty/logs');
    const line = (json!.logs as { message: string; invocationId: string | null }[]).find((l) => l.message === 'served /first');
    assert.ok(line && id, JSON.stringify(json));
    assert.equal(line.invocationId, id);
  });

  test('a pod killed for its memory limit answers FUNCTION_OUT_OF_MEMORY, and the next request gets a new pod', async () => {
    // Holds what it allocated for a while: the test node's memory watchdog samples (a cgroup kills at once).
    const hog =
      'const kept = []; export default async (req) => { if (new URL(req.url).pathname === "/hog") { for (let i = 0; i < 128; i++) kept.push(Buffer.alloc(4 << 20, 1)); await new Promise((r) => setTimeout(r, 2000)); } return new Response("fine"); };';
    await deploy(platform.url, 'hog', { file: 'index.js', content: hog }, { memory: 128 });
    const res = await invoke(platform.url, 'hog/hog');
    assert.equal(res.status, 502);
    assert.equal(res.headers['x-nimbus-error'], 'FUNCTION_OUT_OF_MEMORY');
    assert.equal((await invoke(platform.url, 'hog')).text, 'fine');
  });

  test('a burst scales from zero to several pods, every request answered, then back to zero', async () => {
    await deploy(platform.url, 'burst', SLOW('b', 400), { concurrency: 1, maxInstances: 4, idleTimeout: '2s' });
    assert.equal(await instancesOf('burst'), 0);
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, podsOf('burst').length)), 20);
    const answers = await Promise.all(Array.from({ length: 12 }, () => invoke(platform.url, 'burst')));
    clearInterval(sampler);
    assert.deepEqual(new Set(answers.map((a) => `${a.status} ${a.text}`)), new Set(['200 b']));
    assert.ok(most >= 2, `pods during the burst: ${most}`);
    await waitFor(async () => (await instancesOf('burst')) === 0 && podsOf('burst').length === 0, 30_000, 'scale back to zero pods');
  });

  test('a redeploy under load fails no request; answers come from the old code, then the new', async () => {
    await deploy(platform.url, 'rolling', SLOW('v1', 20), { concurrency: 4, maxInstances: 3 });
    let stop = false;
    const seen: string[] = [];
    const load = Array.from({ length: 3 }, async () => {
      while (!stop) {
        const res = await invoke(platform.url, 'rolling');
        seen.push(`${res.status} ${res.text}`);
      }
    });
    await waitFor(() => seen.length >= 10, 20_000, 'load on v1');
    await deploy(platform.url, 'rolling', SLOW('v2', 20), { concurrency: 4, maxInstances: 3 });
    await waitFor(() => seen.at(-1) === '200 v2', 20_000, 'answers from v2');
    const mark = seen.length;
    await waitFor(() => seen.length >= mark + 10, 20_000, 'more load on v2');
    stop = true;
    await Promise.all(load);
    assert.deepEqual([...new Set(seen)].sort(), ['200 v1', '200 v2']);
    await waitFor(() => podsOf('rolling').every((p) => p.metadata.labels?.[LABELS.version] === '2'), 20_000, 'v1 pods deleted');
  });

  test('a pod deleted from under it: the next invocation gets a new pod', async () => {
    assert.equal((await invoke(platform.url, 'hello')).status, 200);
    const before = podsOf('hello').map((p) => p.metadata.name!);
    for (const name of before) cluster.api.store.remove(cluster.namespace, name); // forced deletes
    await waitFor(() => forgot('hello', before), 10_000, 'the instances to go');
    const res = await invoke(platform.url, 'hello');
    assert.equal(res.status, 200);
    assert.ok(podsOf('hello').every((p) => !before.includes(p.metadata.name!)), 'served by a new pod');
  });

  test('a watch that drops is resumed: a pod deleted meanwhile is noticed', async () => {
    assert.equal((await invoke(platform.url, 'hello')).status, 200);
    const pods = podsOf('hello').map((p) => p.metadata.name!);
    assert.ok(pods.length >= 1);
    cluster.api.dropWatches('destroy');
    for (const name of pods) cluster.api.store.remove(cluster.namespace, name);
    await waitFor(() => forgot('hello', pods), 15_000, 'the deleted pods to be noticed').catch(async (err: Error) => {
      const all = cluster.api.store.list(cluster.namespace, LabelSelector.parse('')).items.map((p) => `${p.metadata.name} ${JSON.stringify(p.metadata.labels)} ${p.status?.phase} ${p.metadata.deletionTimestamp ?? ''}`);
      const info = (await api(platform.url, 'GET', '/api/v1/functions/hello')).json;
      throw new Error(`${err.message}; removed ${pods.join(',')}; pods now: ${all.join(' | ')}; function: ${JSON.stringify(info).slice(0, 400)}; last requests: ${cluster.api.requests.slice(-8).join(' ; ')}`);
    });
    assert.equal((await invoke(platform.url, 'hello')).text, 'hello from a pod');
  });
});
