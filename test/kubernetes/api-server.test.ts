/**
 * The test API server answers as kube-apiserver does, through the real client (client-node), so a
 * mistake the real server would reject fails the backend's tests too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod, Watch } from '@kubernetes/client-node';
import { startTestCluster, TEST_IMAGES, type TestCluster } from './test-cluster.js';

const pod = (name: string, labels: Record<string, string> = {}, extra: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name, labels },
  spec: { restartPolicy: 'Never', containers: [{ name: 'runtime', image: TEST_IMAGES.node, env: [{ name: 'NIMBUS_LISTEN_PORT', value: '8080' }] }], ...extra },
});

async function status(call: Promise<unknown>): Promise<{ code: number; body: { reason?: string; details?: { causes?: { field: string }[] } } }> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ApiException, `an API error, not ${String(err)}`);
    return { code: err.code, body: typeof err.body === 'string' ? JSON.parse(err.body) : err.body };
  }
  assert.fail('the call succeeded');
}

describe('test Kubernetes API server', () => {
  let cluster: TestCluster;
  let api: CoreV1Api;
  let namespace: string;
  /** A namespace no node agent serves: pods there stay as the API left them (no kubelet updates). */
  const apiOnly = 'api-only';
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  before(async () => {
    cluster = await startTestCluster({ historySize: 50, watchLifetimeMs: 60_000 });
    api = cluster.kubeConfig.makeApiClient(CoreV1Api);
    namespace = cluster.namespace;
  });
  after(() => cluster.close());

  test('create, get, list by label selector, and 409 AlreadyExists / 404 NotFound', async () => {
    const created = await api.createNamespacedPod({ namespace: apiOnly, body: pod('a1', { app: 'x', tier: 'web' }, { restartPolicy: 'Always' }) });
    assert.ok(created.metadata?.resourceVersion && created.metadata.uid);
    await api.createNamespacedPod({ namespace: apiOnly, body: pod('a2', { app: 'y' }, { restartPolicy: 'Always' }) });
    assert.equal((await api.readNamespacedPod({ namespace: apiOnly, name: 'a1' })).metadata?.labels?.tier, 'web');
    const names = async (labelSelector: string) => (await api.listNamespacedPod({ namespace: apiOnly, labelSelector })).items.map((p) => p.metadata?.name).sort();
    assert.deepEqual(await names('app=x'), ['a1']);
    assert.deepEqual(await names('app in (x,y)'), ['a1', 'a2']);
    assert.deepEqual(await names('app!=x,app'), ['a2']);
    assert.deepEqual(await names('!tier,app'), ['a2']);
    assert.equal((await status(api.createNamespacedPod({ namespace: apiOnly, body: pod('a1') }))).code, 409);
    const missing = await status(api.readNamespacedPod({ namespace: apiOnly, name: 'nope' }));
    assert.equal(missing.code, 404);
    assert.equal(missing.body.reason, 'NotFound');
    assert.equal((await status(api.listNamespacedPod({ namespace: apiOnly, labelSelector: 'app in (x' }))).code, 400);
  });

  test('422 Invalid for names, labels and required fields the real server refuses', async () => {
    const badName = await status(api.createNamespacedPod({ namespace: apiOnly, body: pod('Not_A_Name') }));
    assert.equal(badName.code, 422);
    assert.deepEqual(badName.body.details?.causes?.map((c) => c.field), ['metadata.name']);
    assert.equal((await status(api.createNamespacedPod({ namespace: apiOnly, body: pod('b1', { 'bad key!': 'x' }) }))).code, 422);
    const noImage = await status(api.createNamespacedPod({ namespace: apiOnly, body: { metadata: { name: 'b2' }, spec: { containers: [{ name: 'runtime' } as never] } } }));
    assert.deepEqual(noImage.body.details?.causes?.map((c) => c.field), ['spec.containers[0].image']);
    assert.equal((await status(api.createNamespacedPod({ namespace: apiOnly, body: { metadata: { name: 'b3' }, spec: { containers: [] } } }))).code, 422);
    // The schema check (kubernetes-models) refuses a wrongly typed field, as the real decoder (400).
    const badType = await status(api.createNamespacedPod({ namespace: apiOnly, body: pod('b4', {}, { containers: [{ name: 'runtime', image: 'x', ports: [{ containerPort: 'http' as never }] }] }) }));
    assert.equal(badType.code, 400);
  });

  test('merge patch: labels change; the spec is immutable (422); a stale resourceVersion is a 409 Conflict', async () => {
    const created = await api.createNamespacedPod({ namespace: apiOnly, body: pod('c1', { role: 'warm' }, { restartPolicy: 'Always' }) });
    const rv = created.metadata!.resourceVersion!;
    const patched = await api.patchNamespacedPod({ namespace: apiOnly, name: 'c1', body: { metadata: { resourceVersion: rv, labels: { role: 'function', fn: 'hello' } } } }, merge);
    assert.deepEqual(patched.metadata?.labels, { role: 'function', fn: 'hello' });
    assert.notEqual(patched.metadata?.resourceVersion, rv);
    const stale = await status(api.patchNamespacedPod({ namespace: apiOnly, name: 'c1', body: { metadata: { resourceVersion: rv, labels: { fn: 'other' } } } }, merge));
    assert.equal(stale.code, 409);
    const immutable = await status(api.patchNamespacedPod({ namespace: apiOnly, name: 'c1', body: { spec: { restartPolicy: 'Never' } } }, merge));
    assert.equal(immutable.code, 422);
    assert.equal((await status(api.patchNamespacedPod({ namespace: apiOnly, name: 'c1', body: { metadata: { name: 'c2' } } }, merge))).code, 422);
    assert.equal((await api.readNamespacedPod({ namespace: apiOnly, name: 'c1' })).metadata?.labels?.fn, 'hello', 'nothing of a refused patch was kept');
  });

  test('a watch resumes from a resource version, sees selector transitions, ends when the server ends it, and gets 410 Gone when compacted', async () => {
    const watch = new Watch(cluster.kubeConfig);
    const path = `/api/v1/namespaces/${apiOnly}/pods`;
    const list = await api.listNamespacedPod({ namespace: apiOnly, labelSelector: 'w=1' });
    const events: string[] = [];
    let ended: unknown = 'open';
    await watch.watch(path, { labelSelector: 'w=1', resourceVersion: list.metadata!.resourceVersion }, (type, obj: V1Pod) => events.push(`${type} ${obj.metadata?.name}`), (err) => (ended = err));
    await api.createNamespacedPod({ namespace: apiOnly, body: pod('d1', { w: '1' }, { restartPolicy: 'Always' }) });
    await api.createNamespacedPod({ namespace: apiOnly, body: pod('d2', { w: '2' }, { restartPolicy: 'Always' }) });
    await api.patchNamespacedPod({ namespace: apiOnly, name: 'd2', body: { metadata: { labels: { w: '1' } } } }, merge);
    await api.patchNamespacedPod({ namespace: apiOnly, name: 'd1', body: { metadata: { labels: { w: null } } } }, merge);
    while (events.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(events, ['ADDED d1', 'ADDED d2', 'DELETED d1']);
    assert.equal(cluster.api.dropWatches('end'), 1);
    while (ended === 'open') await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(ended, null, 'a clean end, for the client to resume');
    // Resumed from the list's version, it replays what happened since.
    const replay: string[] = [];
    await watch.watch(path, { labelSelector: 'w=1', resourceVersion: list.metadata!.resourceVersion }, (type, obj: V1Pod) => replay.push(`${type} ${obj.metadata?.name}`), () => undefined);
    while (replay.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(replay, events);
    cluster.api.dropWatches('destroy');
    cluster.api.store.compact();
    const expired: unknown[] = [];
    await watch.watch(path, { resourceVersion: list.metadata!.resourceVersion }, (type, obj) => expired.push([type, (obj as { code: number }).code]), () => undefined);
    while (expired.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(expired, [['ERROR', 410]]);
  });

  test('the node agent runs a pod on its own address, reports it Ready, and a graceful delete stops it', async () => {
    const created = await api.createNamespacedPod({
      namespace,
      body: pod('e1', {}, { containers: [{ name: 'runtime', image: TEST_IMAGES.node, env: [{ name: 'NIMBUS_LISTEN_PORT', value: '8080' }], readinessProbe: { httpGet: { path: '/__nimbus/health', port: 8080 }, periodSeconds: 1 } }] }),
    });
    assert.equal(created.status?.phase, 'Pending');
    let current = created;
    while (!current.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = await api.readNamespacedPod({ namespace, name: 'e1' });
    }
    assert.equal(current.status?.phase, 'Running');
    assert.match(current.status?.podIP ?? '', /^127\./);
    assert.notEqual(current.status?.podIP, '127.0.0.1');
    const health = await fetch(`http://${current.status!.podIP}:8080/__nimbus/health`);
    assert.equal(health.status, 200);
    const deleting = await api.deleteNamespacedPod({ namespace, name: 'e1', gracePeriodSeconds: 5 });
    assert.ok(deleting.metadata?.deletionTimestamp, 'a graceful delete marks the pod first');
    for (;;) {
      const gone = await api.readNamespacedPod({ namespace, name: 'e1' }).then(() => false, (err: unknown) => err instanceof ApiException && err.code === 404);
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await assert.rejects(fetch(`http://${current.status!.podIP}:8080/__nimbus/health`));
  });

  test('a container over its memory limit is OOMKilled (exit 137); an image that cannot be pulled waits in ErrImagePull', async () => {
    const hog = pod('f1', {}, {
      containers: [{ name: 'runtime', image: TEST_IMAGES.node, env: [{ name: 'NIMBUS_LISTEN_PORT', value: '8080' }], resources: { limits: { memory: '20Mi' } } }],
    });
    await api.createNamespacedPod({ namespace, body: hog });
    let current: V1Pod;
    do {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = await api.readNamespacedPod({ namespace, name: 'f1' });
    } while (current.status?.phase !== 'Failed');
    assert.deepEqual(
      { reason: current.status.containerStatuses?.[0]?.state?.terminated?.reason, exitCode: current.status.containerStatuses?.[0]?.state?.terminated?.exitCode },
      { reason: 'OOMKilled', exitCode: 137 },
    );
    await api.createNamespacedPod({ namespace, body: pod('f2', {}, { containers: [{ name: 'runtime', image: 'no/such-image:1' }] }) });
    do {
      await new Promise((resolve) => setTimeout(resolve, 20));
      current = await api.readNamespacedPod({ namespace, name: 'f2' });
    } while (!current.status?.containerStatuses);
    assert.equal(current.status.containerStatuses[0]?.state?.waiting?.reason, 'ErrImagePull');
  });

  test('429 with Retry-After when throttled', async () => {
    cluster.api.throttle(1, 2);
    const throttled = await status(api.listNamespacedPod({ namespace }));
    assert.equal(throttled.code, 429);
    assert.equal((await api.listNamespacedPod({ namespace })).kind, 'PodList');
  });
});
