import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_INSTANCE_LIMITS } from '../../src/core/spec.js';
import { LABELS } from '../../src/providers/kubernetes/labels.js';
import { poolLabels, runtimePod, type PodProfile } from '../../src/providers/kubernetes/pod-spec.js';
import { type KubeObject, validateObject } from './schema.js';

const profile: PodProfile = { runtime: 'python', memoryMb: 512, network: 'none', limits: { ...DEFAULT_INSTANCE_LIMITS, tmpMb: 64 } };
const settings = { images: { node: 'ghcr.io/nimbus/runtime-node:1', python: 'ghcr.io/nimbus/runtime-python:1' }, owner: 'cp-1' };

test('a runtime pod is valid against the Kubernetes schema, with and without a RuntimeClass', () => {
  validateObject(runtimePod(profile, settings, poolLabels(profile, 'cp-1')) as KubeObject);
  validateObject(runtimePod({ ...profile, runtime: 'node' }, { ...settings, runtimeClassName: 'gvisor' }, {}) as KubeObject);
  // The check itself refuses what the API would: a malformed pod fails it.
  assert.throws(() => validateObject({ apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'x', ports: [{ containerPort: 'http' }] }] } }), /containerPort/);
});

test('a runtime pod is isolated: non-root, read-only root, no capabilities, seccomp, no token, limits, a sized /tmp', () => {
  const pod = runtimePod(profile, { ...settings, runtimeClassName: 'kata' }, poolLabels(profile, 'cp-1'));
  const spec = pod.spec!;
  const container = spec.containers[0]!;
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(spec.runtimeClassName, 'kata');
  assert.equal(spec.restartPolicy, 'Never');
  assert.equal(spec.securityContext?.runAsNonRoot, true);
  assert.notEqual(spec.securityContext?.runAsUser, 0);
  assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL']);
  assert.equal(container.image, 'ghcr.io/nimbus/runtime-python:1');
  assert.deepEqual(container.resources?.limits, { memory: '512Mi', cpu: '500m', 'ephemeral-storage': '64Mi' });
  assert.deepEqual(spec.volumes, [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
  assert.deepEqual(container.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
  assert.equal(pod.metadata?.labels?.[LABELS.network], 'none', 'NetworkPolicies select pods without egress by this label');
  assert.equal(pod.metadata?.labels?.[LABELS.role], 'warm');
  assert.equal(container.env?.find((e) => e.name === 'NIMBUS_LISTEN_PORT')?.value, '8080');
});

test('a runtime with no image configured is refused', () => {
  assert.throws(() => runtimePod({ ...profile, runtime: 'exec' }, settings, {}), /no image is configured for the exec runtime/);
});
