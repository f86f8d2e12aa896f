/**
 * Random management API requests for the fuzz test, from a seeded PRNG so a failing run can be
 * replayed (`FUZZ_SEED=<seed>`). Requests are raw bytes (see http.ts `rawRequest`): junk methods,
 * traversal and encoded junk in paths, random and malformed JSON, random field types, headers and
 * sizes. Nothing here deploys a function (package hashes are random, so deploys stop at
 * PACKAGE_NOT_FOUND at the latest) or touches the protected names.
 */
import { rawRequest } from './http.js';

/** mulberry32: small, fast, good enough to pick test inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzRequest {
  /** Short description for failure messages. */
  what: string;
  method: string;
  bytes: Buffer;
  /** Close our side after sending: raw junk may stop mid-request, and the server would wait for the rest. */
  halfClose: boolean;
}

/** Names the fuzz must never change (a function and the secret it uses). */
export interface Protected {
  fn: string;
  secret: string;
}

const CONFIG_FIELDS = ['package', 'runtime', 'handler', 'env', 'secrets', 'timeout', 'memory', 'idleTimeout', 'concurrency', 'maxInstances', 'minInstances'];
const NASTY_SEGMENTS = [
  '..', '.', '%2e%2e', '%2E%2e', '..%2f', '%2f', '%2F..%2F', 'a%2Fb', '%5C', '%00', 'a%00', '%0a', '%0d%0a', '%20', '%ff', '%', '%E0%A4%A',
  '%D0%B0', '%E2%80%8B', '%E2%80%AE', '%EF%BB%BF', '%CC%81', '%EF%BD%81', '~', '*', ';', ',', "'", '%22', '%3Cscript%3E', '__proto__', 'constructor',
];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/vnd.x+json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/jsonx', '', '*/*', 'json'];
const STRINGS = ['', ' ', '30s', '5m', '-1', '1e400', 'NaN', 'Infinity', 'node', 'python', 'index.js', '../../etc/passwd', 'a\u0000b', '\u202e', '\ud800', 'é', '𝕏', 'DB_PASSWORD', 'NIMBUS_SOCKET', '__proto__'];
const NUMBERS = [0, -0, 1, -1, 0.5, 63, 64, 100, 1024, 16384, 16385, 1e6, 2 ** 31, 2 ** 53, 1e308, -1e308, 1e-9];

export function generator(random: () => number, guarded: Protected, packageSha: () => string) {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const letters = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[int(0, alphabet.length - 1)]).join('');
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
  const encodedJunk = () => Array.from(randomBytes(int(1, 12)), (b) => `%${b.toString(16).padStart(2, '0')}`).join('');

  const functionName = (): string => {
    const r = random();
    if (r < 0.4) return letters('abcdefghijklmnopqrstuvwxyz', 1) + letters('abcdefghijklmnopqrstuvwxyz0123456789-', int(0, 12)) + letters('abcdefghijklmnopqrstuvwxyz0123456789', 1);
    if (r < 0.55) return guarded.fn;
    if (r < 0.85) return pick(NASTY_SEGMENTS) + (chance(0.5) ? pick(NASTY_SEGMENTS) : '');
    if (r < 0.95) return encodedJunk();
    return letters('abcdefghijklmnopqrstuvwxyz', int(64, 3000));
  };
  const secretName = (): string => {
    const r = random();
    if (r < 0.4) return letters('ABCDEFGHIJKLMNOPQRSTUVWXYZ_', 1) + letters('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_', int(0, 16));
    if (r < 0.55) return guarded.secret;
    if (r < 0.9) return pick(NASTY_SEGMENTS) + (chance(0.3) ? encodedJunk() : '');
    return letters('ABCDEFGHIJKLMNOPQRSTUVWXYZ', int(129, 2000));
  };

  /** A random JSON value, `depth` levels deep at most. */
  const jsonValue = (depth: number): unknown => {
    const r = random();
    if (r < 0.2) return pick(NUMBERS) * (chance(0.1) ? -1 : 1);
    if (r < 0.4) return chance(0.5) ? pick(STRINGS) : letters('abcXYZ09_-=é\u0000 ', int(0, 40));
    if (r < 0.5) return pick([true, false, null]);
    if (depth <= 0) return null;
    if (r < 0.7) return Array.from({ length: int(0, 4) }, () => jsonValue(depth - 1));
    return Object.fromEntries(Array.from({ length: int(0, 4) }, () => [chance(0.7) ? pick(CONFIG_FIELDS) : pick(STRINGS), jsonValue(depth - 1)]));
  };
  /** A function config with random fields of random types (never a usable package). */
  const config = (): Record<string, unknown> => {
    const out: Record<string, unknown> = chance(0.8) ? { package: chance(0.9) ? packageSha() : jsonValue(1) } : {};
    for (let i = int(0, 5); i > 0; i--) out[chance(0.9) ? pick(CONFIG_FIELDS) : pick(STRINGS)] = jsonValue(2);
    if (chance(0.15)) out['env'] = { [pick(['A', 'B_1', 'a=b', 'NIMBUS_X', '', '1A'])]: chance(0.1) ? 'x'.repeat(int(60_000, 200_000)) : pick(STRINGS) };
    return out;
  };
  const body = (): { text: string | Buffer; type: string | undefined } => {
    const r = random();
    const type = chance(0.85) ? 'application/json' : chance(0.7) ? pick(CONTENT_TYPES) : undefined;
    if (r < 0.55) return { text: JSON.stringify(config()), type };
    if (r < 0.7) return { text: JSON.stringify(jsonValue(3)), type };
    if (r < 0.85) {
      const text = JSON.stringify(config());
      return { text: text.slice(0, int(0, text.length - 1)), type };
    }
    if (r < 0.97) return { text: randomBytes(int(0, 2000)), type };
    return { text: Buffer.alloc(int(1_000_000, 1_100_000), '{'), type };
  };
  // No `follow`: that answer streams until the client leaves.
  const query = () => (chance(0.5) ? '' : `?${pick(['since', 'limit', 'x', ''])}=${pick(['10m', '-1', '1e12', 'abc', '', '%00', '2026-01-01T00:00:00Z', '1'])}`);

  /** One random request; `secret` bodies are raw values. */
  return (index: number): FuzzRequest => {
    const r = random();
    // Mostly methods the routes take, so most requests reach validation rather than stop at 405.
    let method = chance(0.85) ? pick(['GET', 'PUT', 'PUT', 'PUT', 'DELETE']) : pick(['POST', 'PATCH', 'HEAD', 'OPTIONS']);
    let path: string;
    let kind: 'fn' | 'secret' | 'other' = 'other';
    let name = '';
    if (r < 0.45) {
      kind = 'fn';
      name = functionName();
      path = `/api/v1/functions/${name}${chance(0.15) ? `/logs${query()}` : ''}`;
    } else if (r < 0.75) {
      kind = 'secret';
      name = secretName();
      path = `/api/v1/secrets/${name}`;
    } else if (r < 0.85) {
      path = pick(['/api/v1/functions', '/api/v1/secrets', '/api/v1/openapi.json', '/api/v1/packages']) + query();
    } else {
      path = pick([
        `/api/v1/functions/../secrets/${guarded.secret}`,
        `/api/v1/secrets/%2e%2e/functions/${guarded.fn}`,
        `/api/v1/functions/${guarded.fn}/../../secrets`,
        `/api/${encodedJunk()}`,
        `/api/v1/${pick(NASTY_SEGMENTS)}/${pick(NASTY_SEGMENTS)}`,
        `/api/v1/functions//${guarded.fn}`,
        `/api/v1/functions/${guarded.fn}/${pick(NASTY_SEGMENTS)}`,
      ]);
    }
    // The protected function and secret may be read, never written.
    if (name === guarded.fn || name === guarded.secret) method = pick(['GET', 'HEAD', 'PATCH', 'OPTIONS']);
    // Uploads store what they get: keep them rare.
    if (path.startsWith('/api/v1/packages') && method === 'POST' && !chance(0.1)) method = 'GET';
    if (chance(0.01)) method = pick(['FROB', 'get', 'PUT ', 'G\u00c9T']);

    const headers: Record<string, string> = {};
    let payload: string | Buffer | undefined;
    if (method === 'PUT' || method === 'POST' || method === 'PATCH' || chance(0.05)) {
      if (kind === 'secret' && chance(0.6)) {
        payload = chance(0.9) ? letters('abcdefghijklmnopqrstuvwxyz0123456789-_=+/ é', int(0, 200)) : randomBytes(int(0, 70_000));
        if (chance(0.3)) headers['content-type'] = pick(CONTENT_TYPES);
      } else {
        const b = body();
        payload = b.text;
        if (b.type !== undefined) headers['content-type'] = b.type;
      }
    }
    if (chance(0.05)) headers['x-nimbus-filename'] = pick(['../x.js', 'a/b.js', 'index.js\u0000', 'ok.js', '']);
    if (chance(0.05)) headers['expect'] = pick(['100-continue', 'magic']);
    if (chance(0.05)) headers[`x-${letters('abc', 3)}`] = letters('abc\u00e9 \t', int(0, 100));
    if (chance(0.02)) headers['x-huge'] = 'h'.repeat(int(16_500, 20_000));
    if (payload !== undefined && chance(0.03)) headers['content-length'] = String(Math.max(0, Buffer.byteLength(payload) - int(1, 10)));
    const junk = chance(0.01);
    const bytes = junk
      ? Buffer.concat([Buffer.from(pick(['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', '\r\n\r\n', 'GET /api/v1/functions\r\n\r\n'])), randomBytes(int(0, 50))])
      : rawRequest(method, path, headers, payload);
    const what = junk ? `#${index} raw junk ${JSON.stringify(bytes.toString('latin1').slice(0, 60))}` : `#${index} ${method} ${path.slice(0, 120)}${payload !== undefined ? ` (${Buffer.byteLength(payload)} bytes)` : ''}`;
    return { what, method: junk ? '' : method, bytes, halfClose: junk };
  };
}
