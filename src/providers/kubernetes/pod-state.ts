/** What a pod's status says, read the way the backend needs it. */
import type { V1Pod } from '@kubernetes/client-node';

/** The pod IP once the pod runs (and its container has not ended). */
export function runningIp(pod: V1Pod): string | undefined {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp ? pod.status.podIP : undefined;
}

/** True once the pod will never serve again: its container ended, or it is being deleted. */
export function ended(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp !== undefined;
}

/** The runtime container's termination, once it ended. */
export function termination(pod: V1Pod): { exitCode: number; reason?: string | undefined; signal?: number | undefined } | undefined {
  return pod.status?.containerStatuses?.[0]?.state?.terminated;
}

/** Why a pod cannot start, when its status says so (an image that cannot be pulled, a failed pod). */
export function startProblem(pod: V1Pod): string | undefined {
  const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
  if (waiting?.reason && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError|CreateContainerError/.test(waiting.reason)) {
    return `its container cannot start (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`;
  }
  if (pod.status?.phase === 'Failed') return `the pod failed (${pod.status.reason ?? termination(pod)?.reason ?? 'no reason given'}${pod.status.message ? `: ${pod.status.message}` : ''})`;
  if (pod.status?.phase === 'Succeeded') return 'its runtime exited before it was specialised';
  return undefined;
}
