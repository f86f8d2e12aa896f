/**
 * deploy/kubernetes, rendered as `kubectl apply -k` would (`kubectl kustomize`), is valid against
 * the Kubernetes schema object by object, and grants and isolates what docs/kubernetes.md says.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAll } from 'js-yaml';
import { ROOT } from '../integration/harness.js';
import { type KubeObject, validateObject } from './schema.js';

function render(t: { skip(message: string): void }): KubeObject[] | undefined {
  try {
    return loadAll(execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy', 'kubernetes')], { encoding: 'utf8' })) as KubeObject[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || process.env.CI === 'true') throw err;
    t.skip('kubectl is not installed (apt-get install kubectl)');
    return undefined;
  }
}

const find = (objects: KubeObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `${kind} ${name} is in the rendered manifests`);
  return found as Record<string, any>;
};

test('every object of deploy/kubernetes is valid against the Kubernetes schema', (t) => {
  const objects = render(t);
  if (!objects) return;
  assert.deepEqual(
    objects.map((o) => o.kind).sort(),
    ['Deployment', 'Namespace', 'Namespace', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'],
  );
  for (const object of objects) validateObject(object);
});

test('the control plane may only manage pods in the functions namespace, and runs locked down', (t) => {
  const objects = render(t);
  if (!objects) return;
  const role = find(objects, 'Role', 'nimbus-functions');
  assert.equal(role.metadata.namespace, 'nimbus-fn');
  assert.deepEqual(role.rules, [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
  ]);
  assert.ok(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), 'nothing cluster-wide');
  const binding = find(objects, 'RoleBinding', 'nimbus-functions');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'nimbus', namespace: 'nimbus-system' }]);
  const deployment = find(objects, 'Deployment', 'nimbus');
  const pod = deployment.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'nimbus');
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(pod.containers[0].securityContext.capabilities.drop, ['ALL']);
  assert.ok(pod.containers[0].args.includes('--backend=kubernetes'));
  assert.equal(pod.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim.claimName, find(objects, 'PersistentVolumeClaim', 'nimbus-data').metadata.name);
});

test('network policies: only the control plane reaches function pods; functions with network none have no egress but their code', (t) => {
  const objects = render(t);
  if (!objects) return;
  const ingress = find(objects, 'NetworkPolicy', 'function-ingress-from-control-plane');
  assert.deepEqual(ingress.spec.podSelector, {}, 'every pod of the functions namespace');
  assert.deepEqual(ingress.spec.ingress.map((rule: { from: unknown[] }) => rule.from.length), [1]);
  const none = find(objects, 'NetworkPolicy', 'function-network-none');
  assert.deepEqual(none.spec.podSelector.matchLabels, { 'nimbus.dev/network': 'none' });
  assert.deepEqual(none.spec.egress.flatMap((rule: { ports: { port: number }[] }) => rule.ports.map((p) => p.port)), [8081, 53, 53]);
});
