/**
 * The checks the API server makes on a pod, for the fields Nimbus sends: the same field paths and
 * reasons as k8s.io/kubernetes/pkg/apis/core/validation, so a mistake the real server would reject
 * (422 Invalid) fails here too.
 */
import { isDeepStrictEqual } from 'node:util';
import { labelKeyError, labelValueError } from './labels.js';
import type { Pod } from './types.js';

/** One field error ("spec.containers[0].name: Required value"). */
export interface FieldError {
  field: string;
  reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueNotSupported';
  message: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** Pod names are DNS subdomains (RFC 1123), at most 253 characters. */
export function nameError(name: string): string | undefined {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

const required = (field: string): FieldError => ({ field, reason: 'FieldValueRequired', message: 'Required value' });
const invalid = (field: string, value: unknown, why: string): FieldError => ({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${why}` });

function labelErrors(labels: unknown, field: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object') return [invalid(field, labels, 'must be a map of strings')];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    const keyError = labelKeyError(key);
    if (keyError) errors.push(invalid(field, key, keyError));
    if (typeof value !== 'string') errors.push(invalid(`${field}[${key}]`, value, 'must be a string'));
    else {
      const valueError = labelValueError(value);
      if (valueError) errors.push(invalid(`${field}[${key}]`, value, valueError));
    }
  }
  return errors;
}

function resourceErrors(resources: Pod['spec']['containers'][number]['resources'], field: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, value] of Object.entries(resources?.[kind] ?? {})) {
      if (!['cpu', 'memory', 'ephemeral-storage'].includes(name) && !name.includes('/')) errors.push(invalid(`${field}.${kind}[${name}]`, name, 'must be a standard resource type or fully qualified'));
      if (typeof value !== 'string' || !QUANTITY.test(value)) errors.push(invalid(`${field}.${kind}[${name}]`, value, 'quantities must match the regular expression'));
    }
  }
  return errors;
}

/** Errors of a pod about to be created (metadata.name already filled from generateName). */
export function validatePod(pod: Pod): FieldError[] {
  const errors: FieldError[] = [];
  const name = pod.metadata?.name;
  if (!name) errors.push(required('metadata.name'));
  else {
    const why = nameError(name);
    if (why) errors.push(invalid('metadata.name', name, why));
  }
  errors.push(...labelErrors(pod.metadata?.labels, 'metadata.labels'));
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return [...errors, required('spec')];
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) errors.push(required('spec.containers'));
  const seen = new Set<string>();
  (spec.containers ?? []).forEach((container, i) => {
    const field = `spec.containers[${i}]`;
    if (!container.name) errors.push(required(`${field}.name`));
    else if (container.name.length > 63 || !DNS_LABEL.test(container.name)) errors.push(invalid(`${field}.name`, container.name, 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\''));
    else if (seen.has(container.name)) errors.push({ field: `${field}.name`, reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(container.name)}` });
    seen.add(container.name ?? '');
    if (!container.image) errors.push(required(`${field}.image`));
    errors.push(...resourceErrors(container.resources, `${field}.resources`));
    for (const [j, port] of (container.ports ?? []).entries()) {
      if (!Number.isInteger(port.containerPort) || port.containerPort < 1 || port.containerPort > 65535) errors.push(invalid(`${field}.ports[${j}].containerPort`, port.containerPort, 'must be between 1 and 65535, inclusive'));
    }
    for (const [j, env] of (container.env ?? []).entries()) if (!env.name) errors.push(required(`${field}.env[${j}].name`));
  });
  if (spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errors.push({ field: 'spec.restartPolicy', reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(spec.restartPolicy)}` });
  }
  return errors;
}

/**
 * Errors of an update (a patch applied): the name and namespace never change, and of the spec only
 * container images, activeDeadlineSeconds and tolerations may (pod spec is otherwise immutable).
 */
export function validatePodUpdate(next: Pod, old: Pod): FieldError[] {
  const errors = validatePod(next);
  if (next.metadata.name !== old.metadata.name) errors.push(invalid('metadata.name', next.metadata.name, 'field is immutable'));
  if (next.metadata.namespace !== old.metadata.namespace) errors.push(invalid('metadata.namespace', next.metadata.namespace, 'field is immutable'));
  const mutableOnly = (spec: Pod['spec']) => ({
    ...spec,
    containers: spec.containers?.map((c) => ({ ...c, image: undefined })),
    activeDeadlineSeconds: undefined,
    tolerations: undefined,
  });
  if (!isDeepStrictEqual(mutableOnly(next.spec), mutableOnly(old.spec))) {
    errors.push({
      field: 'spec',
      reason: 'FieldValueForbidden',
      message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    });
  }
  return errors;
}
