import { FUNCTION_NAME_PATTERN } from '../core/spec.js';

/**
 * The function a request's Host header names, as `<function>.<domain>[:port]`, or undefined when
 * it names none (the platform's own host, another domain, or a name that cannot be a function).
 * Like Knative's per-service hosts: each function gets an origin of its own, so the absolute URLs
 * it builds from its request are right, and `*.localhost` reaches loopback in curl and browsers.
 */
export function functionFromHost(host: string | undefined, domain: string): string | undefined {
  if (host === undefined || domain === '') return undefined;
  const colon = host.lastIndexOf(':');
  const hostname = (colon !== -1 && !host.endsWith(']') ? host.slice(0, colon) : host).toLowerCase().replace(/\.$/, '');
  const suffix = `.${domain.toLowerCase()}`;
  if (!hostname.endsWith(suffix)) return undefined;
  const name = hostname.slice(0, -suffix.length);
  return FUNCTION_NAME_PATTERN.test(name) ? name : undefined;
}

/** The function's own URL on the platform listening at `baseUrl` (e.g. http://hello.localhost:8080/). */
export function functionHostUrl(baseUrl: string, name: string, domain: string): string {
  const url = new URL(baseUrl);
  url.hostname = `${name}.${domain}`;
  return url.href;
}
