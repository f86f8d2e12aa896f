/**
 * Validation of Kubernetes objects against the API's OpenAPI schema (kubernetes-models: Kubernetes
 * 1.27's schema), by apiVersion and kind, for objects Nimbus creates and for deploy/kubernetes.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; generateName?: string };
  [key: string]: unknown;
}

/** Throws (naming the object and the failing field) unless `object` is valid for its apiVersion and kind. */
export function validateObject(object: KubeObject): void {
  const { apiVersion, kind } = object;
  if (!apiVersion || !kind) throw new Error(`an object without apiVersion or kind: ${JSON.stringify(object).slice(0, 200)}`);
  type Model = new (data: unknown) => { validate(): void };
  let Model: Model | undefined;
  try {
    // "v1" -> kubernetes-models/v1/Pod; "apps/v1" -> kubernetes-models/apps/v1/Deployment
    Model = (require(`kubernetes-models/${apiVersion}/${kind}`) as Record<string, Model>)[kind];
  } catch {
    // answered below
  }
  if (!Model) throw new Error(`no schema for ${apiVersion} ${kind}: not a Kubernetes type`);
  try {
    new Model(object).validate();
  } catch (err) {
    throw new Error(`${kind} ${object.metadata?.name ?? object.metadata?.generateName ?? ''} does not match the Kubernetes schema: ${(err as Error).message}`);
  }
}
