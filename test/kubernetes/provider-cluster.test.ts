/**
 * The Kubernetes provider against what a cluster does to it: pods killed for memory, deleted from
 * under it, watches that drop, throttling, and the warm pool's claims.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { systemClock } from '../../src/core/clock.js';
import { createHash } from 'node:crypto';
import type { PackageBundle } from '../../src/core/runtime-protocol.js';
import { LABELS } from '../../src/providers/kubernetes/labels.js';
import { PackageServer } from '../../src/providers/kubernetes/package-server.js';
import { KubernetesProvider, type KubernetesProviderOptions } from '../../src/providers/kubernetes/provider.js';
import { codeRoot, pythonRecord, record } from './fixtures.js';
import { startTestCluster, TEST_IMAGES, type TestCluster } from './test-cluster.js';

const until = async (what: string, condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('kubernetes provider in a test cluster', () => {
  let cluster: TestCluster;
  const code = codeRoot({
    hello: 'module.exports = async () => new Response("hello");',
    // Holds what it allocated for a while: the test node's memory watchdog samples (a cgroup kills at once).
    hog: 'const kept = []; module.exports = async () => { for (let i = 0; i < 64; i++) kept.push(Buffer.alloc(4 << 20, 1)); await new Promise((r) => setTimeout(r, 2000)); return new Response("never"); };',
    'py-hello.py': 'def handler(event, context):\n    return {"statusCode": 200, "body": "hello from " + event["rawPath"]}\n',
    env: 'module.exports = async () => new Response(process.env.GREETING + " " + process.cwd().startsWith(require("os").tmpdir()));',
  });
  const providers: KubernetesProvider[] = [];
  const provider = (options: Partial<KubernetesProviderOptions> = {}) => {
    const made = new KubernetesProvider({
      kubeConfig: cluster.kubeConfig,
      namespace: cluster.namespace,
      clock: systemClock,
      images: TEST_IMAGES,
      codeDir: code.codeDir,
      packageServer: { host: '127.0.0.1' },
      warmPoolSize: 0,
      stopGraceSeconds: 2,
      ...options,
    });
    providers.push(made);
    return made;
  };
  before(async () => {
    cluster = await startTestCluster();
  });
  after(async () => {
    await Promise.all(providers.map((p) => p.shutdown()));
    await cluster.close();
    code.remove();
  });

  test('a cold start specialises a warm pod: it gets the function labels, the code by one-time token, and secrets in its env', async () => {
    // Node only: the pool then holds one pod.
    const p = provider({ warmPoolSize: 1, warmMemoryMb: [128], images: { node: TEST_IMAGES.node }, secretEnv: async () => ({ GREETING: 'hi' }) });
    await until('the pool has a ready pod', () => p.spareCount === 1);
    const fn = record('env-fn', 'env');
    const instance = await p.start(fn);
    const res = await instance.dispatcher.request({ path: '/', method: 'GET' });
    assert.equal(await res.body.text(), 'hi true', 'env from the init, code in a folder under the pod TMPDIR');
    const pod = await cluster.kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: cluster.namespace, name: instance.id });
    assert.equal(pod.metadata?.labels?.[LABELS.function], 'env-fn');
    assert.equal(pod.metadata?.labels?.[LABELS.role], 'function');
    assert.ok(cluster.api.requests.some((r) => r.startsWith(`PATCH /api/v1/namespaces/${cluster.namespace}/pods/${instance.id}`)), 'claimed by a patch, not created');
    await until('the pool refilled', () => p.spareCount === 1);
    await instance.stop();
  });

  test('python pods listen on TCP and fetch their code too', async () => {
    const p = provider();
    const instance = await p.start(pythonRecord('py', 'py-hello'));
    const res = await instance.dispatcher.request({ path: '/there', method: 'GET' });
    assert.equal(await res.body.text(), 'hello from /there');
    await instance.stop();
  });

  test('a pod killed for exceeding its memory limit reports outOfMemory (FUNCTION_OUT_OF_MEMORY above)', async () => {
    const p = provider();
    const instance = await p.start(record('hog', 'hog', 64));
    await instance.dispatcher.request({ path: '/', method: 'GET' }).then((r) => r.body.dump(), () => undefined);
    await instance.exited;
    assert.equal(instance.outOfMemory(), true);
    assert.match(instance.exitReason() ?? '', /memory limit/);
    await until('the pod was removed', () => p.list().length === 0);
  });

  test('a pod deleted from under it ends its instance', async () => {
    const p = provider();
    const instance = await p.start(record('hello', 'hello'));
    await cluster.kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: cluster.namespace, name: instance.id, gracePeriodSeconds: 0 });
    await instance.exited;
    assert.equal(instance.exitReason(), 'was deleted');
    assert.equal(p.list().length, 0);
  });

  test('a watch that drops (cut or ended by the server) is resumed, and changes made meanwhile are seen', async () => {
    const p = provider();
    const instance = await p.start(record('hello', 'hello'));
    await until('its watch is open', () => cluster.api.openWatches > 0);
    const before = cluster.api.openWatches;
    cluster.api.dropWatches('destroy');
    // Deleted while no watch is open: seen once the watch is resumed.
    await cluster.kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: cluster.namespace, name: instance.id, gracePeriodSeconds: 0 });
    await instance.exited;
    await until('the watches are open again', () => cluster.api.openWatches >= before);
    const second = await p.start(record('hello', 'hello'));
    cluster.api.dropWatches('end');
    cluster.api.store.compact(); // the next resume gets 410 Gone and lists again
    await cluster.kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: cluster.namespace, name: second.id, gracePeriodSeconds: 0 });
    await second.exited;
  });

  test('throttling (429 with Retry-After) during a start is waited out', async () => {
    const p = provider();
    await p.start(record('hello', 'hello')).then((i) => i.stop()); // the provider is up
    cluster.api.throttle(2, 0);
    const instance = await p.start(record('hello', 'hello'));
    const res = await instance.dispatcher.request({ path: '/', method: 'GET' });
    assert.equal(await res.body.text(), 'hello');
    await instance.stop();
  });

  test('a generated pod name that is taken (409 AlreadyExists) is created again', async () => {
    const suffixes = ['taken', 'taken'];
    const collide = await startTestCluster({ nameSuffix: () => suffixes.shift() ?? Math.random().toString(36).slice(2, 7) });
    const p = new KubernetesProvider({ kubeConfig: collide.kubeConfig, namespace: collide.namespace, clock: systemClock, images: TEST_IMAGES, codeDir: code.codeDir, packageServer: { host: '127.0.0.1' }, warmPoolSize: 0 });
    try {
      const first = await p.start(record('hello', 'hello'));
      const second = await p.start(record('hello', 'hello'));
      assert.equal(first.id, 'nimbus-node-128-taken');
      assert.notEqual(second.id, first.id);
      assert.equal(collide.api.requests.filter((r) => r.startsWith('POST')).length, 3, 'the second create was made twice');
    } finally {
      await p.shutdown();
      await collide.close();
    }
  });

  test("a control plane started again deletes the pods its crashed predecessor left", async () => {
    const crashed = provider({ owner: 'same-owner' });
    const left = await crashed.start(record('hello', 'hello'));
    // No shutdown: as after kill -9. A new run of the same control plane:
    const again = provider({ owner: 'same-owner' });
    await again.start(record('hello', 'hello')).then((i) => i.stop());
    await left.exited;
    assert.equal(left.exitReason(), 'was deleted');
  });

  test('the package server answers a build once per token, and nothing without one', async () => {
    const server = new PackageServer(systemClock, { host: '127.0.0.1' });
    await server.listen();
    try {
      const grant = await server.grant(code.codeDir(record('hello', 'hello')));
      const first = await fetch(grant.url, { headers: { authorization: `Bearer ${grant.token}` } });
      const body = Buffer.from(await first.arrayBuffer());
      assert.equal(first.status, 200);
      assert.equal(createHash('sha256').update(body).digest('hex'), grant.sha256);
      assert.deepEqual((JSON.parse(body.toString()) as PackageBundle).files.map((f) => f.path), ['index.js']);
      assert.equal((await fetch(grant.url, { headers: { authorization: `Bearer ${grant.token}` } })).status, 403, 'a token is good for one download');
      assert.equal((await fetch(grant.url)).status, 403);
      const other = await server.grant(code.codeDir(record('env', 'env')));
      assert.equal((await fetch(grant.url, { headers: { authorization: `Bearer ${other.token}` } })).status, 403, "another build's token fetches nothing else");
    } finally {
      await server.close();
    }
  });
});
