/**
 * The broker URL settings every broker kind (nats, mqtt, amqp, redis) shares: `url` (a default on
 * loopback, refused when it carries credentials) and `urlSecret` (the name of a Nimbus secret whose
 * value is the whole URL, credentials included; it wins over `url`). Settings are stored and listed
 * in plain text, secrets are not; so credentials never appear in trigger settings, a status reason,
 * an event's `source` or a log line: {@link BrokerAddress.display} is what is shown.
 */
import { z } from 'zod';
import { secretNameProblem } from '../../core/secret-rules.js';

/** What the user is told when a URL has credentials in it (the value itself is never quoted). */
export const CREDENTIALS_IN_URL =
  'the URL has credentials in it: put the whole URL in a secret (nimbus secret set <NAME>) and pass --url-secret <NAME> (settings.urlSecret) instead';

/**
 * A zod string schema for a broker URL of one of `schemes` (without the colon: `['amqp', 'amqps']`),
 * without credentials, `fallback` when absent. The value is not quoted in messages: it may hold a password.
 */
export function brokerUrlSchema(schemes: readonly string[], fallback: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const problem = brokerUrlProblem(value, schemes) ?? (hasCredentials(value) ? CREDENTIALS_IN_URL : undefined);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(fallback);
}

/** A zod schema for `urlSecret`: the name of a Nimbus secret whose value is the whole URL. */
export const urlSecretSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = secretNameProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `urlSecret: ${problem}` });
  })
  .optional();

/** Why `value` is not a URL of one of `schemes` (credentials aside), or undefined when it is. */
export function brokerUrlProblem(value: string, schemes: readonly string[]): string | undefined {
  const url = parseUrl(value);
  if (url === undefined) return `not a URL: expected ${schemes.map((scheme) => `${scheme}://host:port`).join(' or ')}`;
  const scheme = url.protocol.slice(0, -1);
  // Sliced: a value that is not a URL of the kind may still be someone's secret.
  if (!schemes.includes(scheme)) return `the URL's scheme is ${scheme.slice(0, 20)}: expected ${schemes.join(' or ')}`;
  if (url.hostname === '') return `the URL names no host: expected ${schemes[0]}://host:port`;
  return undefined;
}

function hasCredentials(value: string): boolean {
  const url = parseUrl(value);
  return url !== undefined && (url.username !== '' || url.password !== '');
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** Where a source connects: the parsed URL (credentials included) and a form safe to show. */
export interface BrokerAddress {
  url: URL;
  /** `scheme://host:port`, never with credentials, path or query: for `ce-source`, logs and status reasons. */
  display: string;
}

/**
 * The URL a source connects to: the secret's value when `urlSecret` is set (it wins over `url`),
 * else `url`. `defaultPort` is the port shown when the URL names none (one for every scheme, or
 * one a scheme). Throws an Error with a reason to report (never the secret's value) when the
 * secret is missing or not a URL of the kind; the platform restarts the source when it changes.
 */
export function brokerAddress(
  settings: { url: string; urlSecret?: string | undefined },
  secrets: Record<string, string>,
  schemes: readonly string[],
  defaultPort: number | Readonly<Record<string, number>>,
): BrokerAddress {
  let value = settings.url;
  if (settings.urlSecret !== undefined) {
    const secret = secrets[settings.urlSecret];
    if (secret === undefined) throw new Error(`the secret ${settings.urlSecret} (urlSecret) is not set`);
    const problem = brokerUrlProblem(secret, schemes);
    if (problem !== undefined) throw new Error(`the secret ${settings.urlSecret} (urlSecret) does not hold a broker URL: ${problem}`);
    value = secret;
  }
  const url = new URL(value);
  const scheme = url.protocol.slice(0, -1);
  const port = url.port || (typeof defaultPort === 'number' ? defaultPort : defaultPort[scheme]);
  // WHATWG keeps the brackets of an IPv6 hostname.
  return { url, display: `${url.protocol}//${url.hostname}:${port}` };
}

/** `display` + `/` + the subject, topic or stream, percent-encoded so `#`, `>` and the like stay in the path. */
export function sourceUri(address: BrokerAddress, path: string): string {
  return `${address.display}/${path.split('/').map(encodeURIComponent).join('/')}`;
}
