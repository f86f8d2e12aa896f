/** Labels and annotations Nimbus puts on its pods: how pods are found, claimed and told apart. */
import { createHash } from 'node:crypto';

export const LABELS = {
  /** Every pod Nimbus makes: `app.kubernetes.io/managed-by=nimbus`. */
  managedBy: 'app.kubernetes.io/managed-by',
  /** The control plane (provider) that made it, so several can share a namespace. */
  owner: 'nimbus.dev/owner',
  /** Runtime of the generic shim the pod runs (`node`, `python`). */
  runtime: 'nimbus.dev/runtime',
  /** Memory size in MB: fixed when a pod starts, so pools are kept per size. */
  memory: 'nimbus.dev/memory-mb',
  /** The function's network policy (`none`, `outbound`, `host`): NetworkPolicies select on it. */
  network: 'nimbus.dev/network',
  /** `warm` while a pod waits in the pool; `function` once it is specialised. */
  role: 'nimbus.dev/role',
  /** The function a specialised pod serves (a label value; the full name is an annotation). */
  function: 'nimbus.dev/function',
  /** The function version a specialised pod serves. */
  version: 'nimbus.dev/version',
} as const;

export const ANNOTATIONS = {
  function: 'nimbus.dev/function-name',
} as const;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A function name as a label value: itself when it is one, else a stable digest of it. */
export function functionLabel(name: string): string {
  if (name.length <= 63 && LABEL_VALUE.test(name)) return name;
  return `h${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}
