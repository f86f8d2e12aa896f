/**
 * Settings every broker source shares: the broker's URL (or the name of the secret holding it),
 * and how a source turns them into where it connects and what it may show. A URL with credentials
 * in it is refused: the settings are stored and listed in plain text, secrets are not.
 */
import { z } from 'zod';
import { secretNameProblem } from '../../core/secret-rules.js';

/** A zod string schema for a broker URL of one of `schemes`, without credentials, `fallback` when absent. */
export function brokerUrlSchema(schemes: readonly string[], fallback: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const problem = brokerUrlProblem(value, schemes);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      else if (hasCredentials(value)) {
        ctx.addIssue({ code: 'custom', message: 'the URL has credentials in it: put the URL in a secret and pass --url-secret' });
      }
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

/** Why `value` is not a URL of one of `schemes`, or undefined when it is. */
export function brokerUrlProblem(value: string, schemes: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not a URL: expected ${schemes[0]}://host:port`;
  }
  const scheme = url.protocol.slice(0, -1);
  if (!schemes.includes(scheme)) return `the URL's scheme is ${scheme}: expected ${schemes.join(' or ')}`;
  if (url.hostname === '') return `the URL names no host: expected ${schemes[0]}://host:port`;
  return undefined;
}

function hasCredentials(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

/** Where a source connects: the parsed URL (credentials included) and a form safe to show. */
export interface BrokerAddress {
  url: URL;
  /** `scheme://host:port`, never with credentials: for `ce-source`, logs and status reasons. */
  display: string;
}

/**
 * The URL a source connects to: the secret's value when `urlSecret` is set (it wins over `url`),
 * else `url`. Throws an Error with a reason to report (never the secret's value) when the secret
 * is missing or not a URL of the kind.
 */
export function brokerAddress(
  settings: { url: string; urlSecret?: string | undefined },
  secrets: Record<string, string>,
  schemes: readonly string[],
  defaultPort: number,
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
  return { url, display: `${url.protocol}//${url.hostname}:${url.port || defaultPort}` };
}

/** `display` + `/` + the subject, topic or stream, percent-encoded so `#`, `>` and the like stay in the path. */
export function sourceUri(address: BrokerAddress, path: string): string {
  return `${address.display}/${path.split('/').map(encodeURIComponent).join('/')}`;
}
