import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { KubernetesProvider } from '../../src/providers/kubernetes/provider.js';
import type { FunctionRecord } from '../../src/store/types.js';
import { providerContract } from '../providers/provider-contract.js';
import { startTestCluster, TEST_IMAGES } from './test-cluster.js';

export function record(name: string, buildId: string, memoryMb = 128): FunctionRecord {
  return {
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    build: { buildId, entry: 'index.js' },
    spec: { name, runtime: 'node', handler: 'index.js', env: {}, timeoutMs: 5000, memoryMb, idleTimeoutMs: 60_000, concurrency: 4, maxInstances: 2, minInstances: 0, network: 'outbound', packageSha256: 'x' },
  };
}

for (const warmPoolSize of [0, 1]) {
  providerContract(`kubernetes pods (test API server, warm pool ${warmPoolSize})`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'nimbus-k8s-provider-'));
    const code = (buildId: string, source: string) => {
      mkdirSync(join(root, buildId));
      writeFileSync(join(root, buildId, 'index.js'), source);
    };
    code('hello', 'module.exports = async () => new Response("hello");');
    code('broken', 'module.exports = async () => { return new Response("x") ;; )');
    const cluster = await startTestCluster();
    return {
      provider: () =>
        new KubernetesProvider({
          kubeConfig: cluster.kubeConfig,
          namespace: cluster.namespace,
          clock: systemClock,
          images: TEST_IMAGES,
          codeDir: (fn) => join(root, fn.build.buildId),
          packageServer: { host: '127.0.0.1' },
          warmPoolSize,
          stopGraceSeconds: 2,
        }),
      hello: record('hello', 'hello'),
      broken: record('broken', 'broken'),
      cleanup: async () => {
        await cluster.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  });
}
