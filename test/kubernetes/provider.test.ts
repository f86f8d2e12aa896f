import { systemClock } from '../../src/core/clock.js';
import { KubernetesProvider } from '../../src/providers/kubernetes/provider.js';
import { providerContract } from '../providers/provider-contract.js';
import { codeRoot, record } from './fixtures.js';
import { startTestCluster, TEST_IMAGES } from './test-cluster.js';

for (const warmPoolSize of [0, 1]) {
  providerContract(`kubernetes pods (test API server, warm pool ${warmPoolSize})`, async () => {
    const code = codeRoot({
      hello: 'module.exports = async () => new Response("hello");',
      broken: 'module.exports = async () => { return new Response("x") ;; )',
    });
    const cluster = await startTestCluster();
    return {
      provider: () =>
        new KubernetesProvider({
          kubeConfig: cluster.kubeConfig,
          namespace: cluster.namespace,
          clock: systemClock,
          images: TEST_IMAGES,
          codeDir: code.codeDir,
          packageServer: { host: '127.0.0.1' },
          warmPoolSize,
          stopGraceSeconds: 2,
        }),
      hello: record('hello', 'hello'),
      broken: record('broken', 'broken'),
      cleanup: async () => {
        await cluster.close();
        code.remove();
      },
    };
  });
}
