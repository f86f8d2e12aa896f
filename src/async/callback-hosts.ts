/**
 * Which hosts async callbacks may be sent to (`nimbus up --callback-hosts`). A callback is a
 * request the platform makes from its own network to a URL the caller chose, so without a list a
 * caller can aim it at internal services (server-side request forgery); shared platforms should
 * set one.
 *
 * A pattern is a host name (`hooks.example.com`), a wildcard for its subdomains at any depth
 * (`*.example.com`: not `example.com` itself), an IPv4 address or an IPv6 address in brackets
 * (`[::1]`), each with an optional `:port` (without one, any port). Names compare without case
 * and without a trailing dot, after the URL standard's normalisation (IDN to punycode, IPv4 and
 * IPv6 spellings to one form), which the URL to check gets too, so `http://0x7f.1/` is
 * `127.0.0.1` on both sides. Names are compared, not the addresses they resolve to: list only
 * names whose DNS you trust.
 */
import { isIP } from 'node:net';

/** Answers whether a callback may be sent to a URL (its host and port; the scheme is the caller's to check). */
export type CallbackHostCheck = (url: URL) => boolean;

interface HostPattern {
  /** Normalised host (IPv6 in brackets), without a trailing dot; for a wildcard, the part after `*.`. */
  host: string;
  wildcard: boolean;
  /** Undefined: any port. */
  port?: number;
}

/** The ports of URLs that name none. */
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

const SHAPE = 'a host name, *.domain or IP address ([::1] for IPv6) with an optional :port, without scheme, path or user (e.g. hooks.example.com, *.example.com:443)';
/** The host part (a bracketed IPv6 literal, or anything without colon or brackets), then an optional port. */
const HOST_AND_PORT = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/;

/**
 * Why `pattern` is not a callback host pattern, as what it must be (e.g. `an IPv6 address in
 * brackets, e.g. [::1]`), or undefined when it is one.
 */
export function callbackHostProblem(pattern: string): string | undefined {
  const parsed = parsePattern(pattern);
  return typeof parsed === 'string' ? parsed : undefined;
}

/**
 * Compiles host patterns into a check of callback URLs. An empty list allows every host.
 * @throws Error naming the first pattern that is not valid (see {@link callbackHostProblem}).
 */
export function compileCallbackHosts(patterns: readonly string[]): CallbackHostCheck {
  const compiled = patterns.map((pattern) => {
    const parsed = parsePattern(pattern);
    if (typeof parsed === 'string') throw new Error(`Callback host pattern ${JSON.stringify(pattern)} is not valid: it must be ${parsed}.`);
    return parsed;
  });
  if (compiled.length === 0) return () => true;
  return (url) => {
    const host = withoutTrailingDot(url.hostname.toLowerCase());
    const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    return compiled.some((p) => (p.port === undefined || p.port === port) && (p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host));
  };
}

/** The parsed pattern, or what it must be. */
function parsePattern(raw: string): HostPattern | string {
  const pattern = raw.trim();
  if (pattern === '' || /[\s/\\?#@%]/.test(pattern)) return SHAPE;
  const match = HOST_AND_PORT.exec(pattern);
  if (!match) return isIP(pattern) === 6 ? 'an IPv6 address in brackets, e.g. [::1] or [::1]:8080' : SHAPE;
  const [, hostPart = '', portPart] = match;
  const port = portPart === undefined ? undefined : Number(portPart);
  if (port !== undefined && (port < 1 || port > 65_535)) return 'a host with a port from 1 to 65535';
  const wildcard = hostPart.startsWith('*.');
  const name = wildcard ? hostPart.slice(2) : hostPart;
  if (name.includes('*')) return 'a host name with at most one wildcard, as its first label (*.example.com)';
  const host = normalizedHost(name);
  if (host === undefined) return SHAPE;
  // A wildcard covers the subdomains of a name; an address has none.
  if (wildcard && (isIP(host) !== 0 || host.startsWith('['))) return 'a domain name after *. (a wildcard cannot cover IP addresses)';
  return port === undefined ? { host, wildcard } : { host, wildcard, port };
}

/** The host as the URL standard writes it (lowercase, punycode, one spelling of each IP), without a trailing dot. */
function normalizedHost(name: string): string | undefined {
  let url: URL;
  try {
    url = new URL(`http://${name}/`);
  } catch {
    return undefined;
  }
  // Anything the URL parser read as more than a host (user, port, path) is not a host name.
  if (url.host !== url.hostname || url.username !== '' || url.pathname !== '/') return undefined;
  const host = withoutTrailingDot(url.hostname);
  return host === '' ? undefined : host;
}

function withoutTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
