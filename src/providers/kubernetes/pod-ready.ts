/** Waiting for a pod to run, and for its runtime shim to answer. */
import type { V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type Dispatcher } from 'undici';
import type { Clock } from '../../core/clock.js';
import { HEALTH_PATH, INVOCATION_ID_HEADER, WARM_UP_PATH } from '../../core/runtime-protocol.js';

/** Warm-up rounds of a waiting pod (as RuntimeProcess.prime does for local spares). */
const PRIME_ROUNDS = 3;
import { runningIp, startProblem } from './pod-state.js';
import { RUNTIME_PORT } from './pod-spec.js';
import type { PodWatch } from './pod-watch.js';

/**
 * Resolves with the pod's IP once the watch shows it running; rejects when it cannot start, is
 * deleted, or takes longer than `timeoutMs`.
 */
export function waitForPodIp(watch: PodWatch, name: string, timeoutMs: number, clock: Clock): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    let cancelTimer = (): void => undefined;
    let settled = false;
    const settle = (err: Error | undefined, ip?: string) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      cancelTimer();
      if (err) reject(err);
      else resolve(ip!);
    };
    const check = (pod: V1Pod, deleted: boolean) => {
      if (deleted) return settle(new Error('the pod was deleted while it started'));
      const problem = startProblem(pod);
      if (problem) return settle(new Error(problem));
      const ip = runningIp(pod);
      if (ip) settle(undefined, ip);
    };
    unsubscribe = watch.onPod(name, check);
    cancelTimer = clock.after(timeoutMs, () => settle(new Error(`the pod was not running within ${timeoutMs} ms`)));
    const current = watch.get(name);
    if (current) check(current, false);
  });
}

/**
 * Resolves once the shim at `dispatcher` answers its health probe (it listens a few tens of
 * milliseconds after its container starts); rejects after `timeoutMs`.
 */
export async function waitHealthy(dispatcher: Dispatcher, timeoutMs: number, clock: Clock): Promise<void> {
  const until = clock.monotonic() + timeoutMs;
  let last: unknown;
  for (let pause = 5; clock.monotonic() < until; pause = Math.min(pause * 2, 100)) {
    try {
      const res = await dispatcher.request({ path: HEALTH_PATH, method: 'GET', signal: AbortSignal.timeout(Math.max(1, Math.ceil(until - clock.monotonic()))) });
      await res.body.dump();
      if (res.statusCode === 200) return;
      last = new Error(`health answered ${res.statusCode}`);
    } catch (err) {
      last = err;
    }
    await sleep(pause);
  }
  throw new Error(`its runtime did not answer within ${timeoutMs} ms (${(last as Error | undefined)?.message ?? 'no answer'})`);
}

/**
 * Waits until a waiting pod's shim answers, then readies it for a fast first invocation as local
 * spares are readied: a few health probes and warm-up invocations run the shim's HTTP code paths
 * once, so the specialisation and the first request after it do not pay for that.
 */
export async function probePod(ip: string, timeoutMs: number, clock: Clock): Promise<void> {
  const client = new Client(`http://${ip}:${RUNTIME_PORT}`);
  try {
    await waitHealthy(client, timeoutMs, clock);
    for (let i = 0; i < PRIME_ROUNDS; i++) {
      const health = await client.request({ path: HEALTH_PATH, method: 'GET' });
      await health.body.dump();
      const warm = await client.request({
        path: WARM_UP_PATH,
        method: 'POST',
        headers: { 'content-type': 'application/json', [INVOCATION_ID_HEADER]: 'warm-up' },
        body: '{"warm":true}',
      });
      await warm.body.dump();
    }
  } finally {
    await client.close().catch(() => undefined);
  }
}
