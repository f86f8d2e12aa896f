/**
 * Cold starts on the Kubernetes backend, against the test API server (test/kubernetes): each is
 * a warm generic pod claimed and specialised (code fetched by one-time token, init over TCP).
 * The figure is Nimbus's own overhead (API round trips, watch latency, specialisation); a real
 * cluster adds its API server's and kubelet's latency, and pods are scheduled ahead (warm pool).
 * The platform runs in this process (the test API server and its node agent too), with the
 * package server on a free port. `node dist/bench/kubernetes.js` runs this stage alone, with
 * the local backend's node cold start in the same run for comparison.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServer } from '../src/server.js';
import { startTestCluster, TEST_IMAGES } from '../test/kubernetes/test-cluster.js';
import { stopChild } from './child.js';
import { deployFunction, HELLO_DIR, measureColdStarts, packDir, startNimbus, uploadPackage, useAdminToken, warmUp } from './nimbus.js';
import { type ColdStartSummary, formatKubernetes, summariseColdStarts } from './report.js';

/** Time between deploying a function and invoking it: the warm pool refills (a pod start). */
const SETTLE_MS = 1000;

/** Node cold starts through specialised pods on the test cluster. */
export async function measureKubernetesColdStarts(workDir: string, runs: number): Promise<ColdStartSummary> {
  const cluster = await startTestCluster();
  const dataDir = join(workDir, 'nimbus-data-kubernetes');
  const kubeconfig = join(workDir, 'kubeconfig.json');
  writeFileSync(kubeconfig, cluster.kubeConfig.exportConfig());
  try {
    const server = await startServer({
      port: 0,
      dataDir,
      sandbox: 'process',
      backend: 'kubernetes',
      warmPoolSize: 1,
      kubernetes: { kubeconfig, namespace: cluster.namespace, images: TEST_IMAGES, packageHost: '127.0.0.1', packagePort: 0 },
      logger: pino({ level: 'error' }),
    });
    try {
      const origin = server.url;
      useAdminToken(origin, dataDir);
      const sha = await uploadPackage(origin, await packDir(HELLO_DIR));
      await deployFunction(origin, 'hello', sha, {}, {});
      await warmUp(`${origin}/fn/hello`, 3);
      return summariseColdStarts(await measureColdStarts(origin, 'hello', sha, runs, SETTLE_MS));
    } finally {
      await server.close();
    }
  } finally {
    await cluster.close();
  }
}

/**
 * Node cold starts of the local backend (`nimbus up --sandbox process`, the host's network), for
 * comparison when this stage runs alone: the same process-per-instance path without the sandbox's
 * own cost (the full bench measures the sandboxed one beside it).
 */
async function measureLocalColdStarts(workDir: string, runs: number): Promise<ColdStartSummary> {
  const nimbus = await startNimbus(join(workDir, 'nimbus-data-local'), ['--sandbox', 'process']);
  const host = { network: 'host' };
  try {
    const sha = await uploadPackage(nimbus.origin, await packDir(HELLO_DIR));
    await deployFunction(nimbus.origin, 'hello', sha, {}, host);
    await warmUp(`${nimbus.origin}/fn/hello`, 3);
    return summariseColdStarts(await measureColdStarts(nimbus.origin, 'hello', sha, runs, SETTLE_MS, host));
  } finally {
    await stopChild(nimbus.child, 5000);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\/dist\//, '/dist/'))) {
  const runs = Number(process.argv[process.argv.indexOf('--cold-runs') + 1]) || 20;
  const workDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-k8s-'));
  try {
    const local = await measureLocalColdStarts(workDir, runs);
    const kubernetes = await measureKubernetesColdStarts(workDir, runs);
    for (const text of formatKubernetes(kubernetes, local, undefined)) console.log(text.replace('local backend, same run', 'local backend (--sandbox process), same run'));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
