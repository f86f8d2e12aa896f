/**
 * A test cluster for the Kubernetes backend: the test API server, its node agent running pods as
 * local processes (the runtime images are this repository's shims), and a kubeconfig for it.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { nodeShimPath, pythonShimPath } from '../../src/runtime-adapters/index.js';
import { NodeAgent } from './api-server/node-agent.js';
import { TestApiServer, type TestApiServerOptions } from './api-server/server.js';
import { type KubeObject, validateObject } from './schema.js';

export const TEST_IMAGES = { node: 'nimbus/runtime-node:test', python: 'nimbus/runtime-python:test' } as const;

export interface TestCluster {
  api: TestApiServer;
  agent: NodeAgent;
  url: string;
  kubeConfig: KubeConfig;
  namespace: string;
  close(): Promise<void>;
}

export async function startTestCluster(options: TestApiServerOptions & { namespace?: string } = {}): Promise<TestCluster> {
  const namespace = options.namespace ?? 'nimbus-fn';
  // Every pod Nimbus creates or patches is checked against the Kubernetes schema.
  const api = new TestApiServer({ schemaCheck: (object) => validateObject(object as KubeObject), ...options });
  const url = await api.listen();
  const agent = new NodeAgent({
    store: api.store,
    namespace,
    // The images' entry points, run from this repository's build.
    runImage: (container) => {
      if (container.image === TEST_IMAGES.node) return { command: process.execPath, args: [nodeShimPath()] };
      if (container.image === TEST_IMAGES.python) return { command: '/usr/bin/python3', args: ['-I', '-B', pythonShimPath()] };
      return undefined;
    },
  });
  api.serveLogs(agent);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
    users: [{ name: 'test' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', namespace }],
    currentContext: 'test',
  });
  return {
    api,
    agent,
    url,
    kubeConfig,
    namespace,
    close: async () => {
      await agent.close();
      await api.close();
    },
  };
}
