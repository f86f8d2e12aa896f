/**
 * The broker URL settings the amqp and redis kinds share: `url` (a default on loopback, refused when
 * it carries credentials) and `urlSecret` (the name of a Nimbus secret whose value is the whole URL,
 * credentials included; it wins over `url`). Credentials are never stored in trigger settings and
 * never appear in a status reason, an event source or a log line: {@link brokerAddress} is what is
 * shown.
 */
import { z } from 'zod';
import { secretNameProblem } from '../../core/secret-rules.js';

/** What the user is told when a URL has credentials in it (the value itself is never quoted). */
export const CREDENTIALS_IN_URL =
  'the URL has credentials in it: put the whole URL in a secret (nimbus secret set <NAME>) and pass --url-secret <NAME> (settings.urlSecret) instead';

/**
 * A zod schema for a broker URL with one of `protocols` (e.g. `['amqp:', 'amqps:']`), defaulting to
 * `fallback`. The value is not quoted in messages: it may hold a password.
 */
export function brokerUrlSchema(protocols: readonly string[], fallback: string) {
  return z
    .string()
    .default(fallback)
    .superRefine((value, ctx) => {
      const problem = brokerUrlProblem(value, protocols);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** A zod schema for `urlSecret`: a valid secret name. */
export const urlSecretSchema = z
  .string()
  .optional()
  .superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : secretNameProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Why `value` is not a usable broker URL without credentials, or undefined when it is. */
export function brokerUrlProblem(value: string, protocols: readonly string[]): string | undefined {
  const parsed = parseUrl(value);
  if (!parsed) return `not a URL: expected ${protocols.map((p) => `${p}//host:port`).join(' or ')}`;
  if (!protocols.includes(parsed.protocol)) return `the URL's scheme is ${parsed.protocol.slice(0, 20)}; expected ${protocols.join(' or ')}`;
  if (parsed.hostname === '') return 'the URL has no host';
  if (parsed.username !== '' || parsed.password !== '') return CREDENTIALS_IN_URL;
  return undefined;
}

/** The URL a source connects to: the secret's value when `urlSecret` is set, else `url`. */
export function resolveBrokerUrl(
  settings: { url: string; urlSecret?: string | undefined },
  secrets: Record<string, string>,
  protocols: readonly string[],
): { url: URL } | { problem: string } {
  if (settings.urlSecret === undefined) {
    const url = parseUrl(settings.url);
    return url ? { url } : { problem: 'the url setting is not a URL' };
  }
  const value = secrets[settings.urlSecret];
  if (value === undefined) return { problem: `the secret ${settings.urlSecret} named by urlSecret is not set` };
  const url = parseUrl(value.trim());
  // The secret's value may hold credentials: it is never quoted.
  if (!url || !protocols.includes(url.protocol)) return { problem: `the secret ${settings.urlSecret} does not hold a ${protocols.join(' or ')} URL` };
  return { url };
}

/** `scheme://host:port` of a URL, without credentials, path or query: safe to show and log. */
export function brokerAddress(url: URL, defaultPort: number): string {
  // WHATWG keeps the brackets of an IPv6 hostname.
  return `${url.protocol}//${url.hostname}:${url.port || defaultPort}`;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
