/**
 * Bad input to the management API, one table: each request is sent byte for byte on its own
 * connection (so nothing is normalised on the way) and must get its status, a catalogue code in
 * `x-nimbus-error` and the body, and `details.field` naming what is wrong. Afterwards the store is
 * exactly as before and the function still serves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deploy, invoke, startPlatform, type TestPlatform, upload } from './harness.js';
import { apiCall, rawExchange, rawRequest, setSecret } from './http.js';

interface Case {
  /** What the case shows (also the assertion message). */
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A raw request instead of method/path/headers/body. */
  raw?: Buffer;
  status: number;
  code: string;
  /** Expected details.field; undefined means none is expected. */
  field?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('bad input to the management API', () => {
  let platform: TestPlatform;
  let sha: string;
  /** The function and secrets as the API shows them, minus what moves on its own. */
  const snapshot = async () => {
    const fns = (await apiCall(platform.url, 'GET', '/api/v1/functions')).json.functions.map(
      ({ instances: _i, desired: _d, ...rest }: Record<string, unknown>) => rest,
    );
    return { fns, secrets: (await apiCall(platform.url, 'GET', '/api/v1/secrets')).json.secrets };
  };
  let before_: Awaited<ReturnType<typeof snapshot>>;

  before(async () => {
    platform = await startPlatform();
    await setSecret(platform.url, 'KEEP', 'kept value');
    sha = (await upload(platform.url, Buffer.from('export default () => new Response(process.env.KEEP)'), 'index.js')).json.sha256;
    await deploy(platform.url, 'keep', { file: 'index.js', content: 'export default () => new Response(process.env.KEEP)' }, { secrets: ['KEEP'], env: { A: '1' } });
    before_ = await snapshot();
  });
  after(() => platform.close());

  /** A function deploy of `keep` with `config` on top of a valid package. */
  const config = (what: string, extra: Record<string, unknown> | string, field: string, code = 'INVALID_REQUEST'): Case => ({
    what,
    method: 'PUT',
    path: '/api/v1/functions/keep',
    headers: JSON_HEADERS,
    body: typeof extra === 'string' ? extra.replace('$SHA', sha) : JSON.stringify({ package: sha, ...extra }),
    status: 400,
    code,
    field,
  });
  /** A request on a function name, with every method that takes one. */
  const badFunctionName = (what: string, segment: string): Case[] => [
    { what: `PUT ${what}`, method: 'PUT', path: `/api/v1/functions/${segment}`, headers: JSON_HEADERS, body: '{}', status: 400, code: 'INVALID_NAME', field: 'name' },
    { what: `GET ${what}`, method: 'GET', path: `/api/v1/functions/${segment}`, status: 400, code: 'INVALID_NAME', field: 'name' },
    { what: `DELETE ${what}`, method: 'DELETE', path: `/api/v1/functions/${segment}`, status: 400, code: 'INVALID_NAME', field: 'name' },
    { what: `logs ${what}`, method: 'GET', path: `/api/v1/functions/${segment}/logs`, status: 400, code: 'INVALID_NAME', field: 'name' },
  ];
  const badSecretName = (what: string, segment: string): Case[] => [
    { what: `PUT secret ${what}`, method: 'PUT', path: `/api/v1/secrets/${segment}`, body: 'x', status: 400, code: 'INVALID_SECRET_NAME', field: 'name' },
    { what: `DELETE secret ${what}`, method: 'DELETE', path: `/api/v1/secrets/${segment}`, status: 400, code: 'INVALID_SECRET_NAME', field: 'name' },
  ];
  const secretValue = (what: string, body: string | Buffer, headers: Record<string, string>, field: string, code = 'INVALID_REQUEST', status = 400): Case => ({
    what,
    method: 'PUT',
    path: '/api/v1/secrets/KEEP',
    headers,
    body,
    status,
    code,
    field,
  });

  const cases = (): Case[] => [
    // Malformed JSON and wrong shapes
    config('malformed JSON', '{"package": "$SHA",', 'body', 'INVALID_JSON'),
    config('empty body', '', 'body', 'INVALID_JSON'),
    config('array body', '[]', 'body'),
    config('null body', 'null', 'body'),
    config('string body', '"keep"', 'body'),
    config('number body', '42', 'body'),
    // Wrong types
    config('memory as a string', { memory: '256' }, 'memory'),
    config('timeout as a boolean', { timeout: true }, 'timeout'),
    config('env as an array', { env: ['A=1'] }, 'env'),
    config('env value as a number', { env: { A: 1 } }, 'env.A'),
    config('maxInstances as a fraction', { maxInstances: 1.5 }, 'maxInstances'),
    config('runtime as a number', { runtime: 5 }, 'runtime'),
    config('handler as an object', { handler: {} }, 'handler'),
    config('package as a number', '{"package": 123}', 'package'),
    config('secrets as an object', { secrets: {} }, 'secrets'),
    config('secrets with a number', { secrets: [1] }, 'secrets.0'),
    // Unknown fields
    config('unknown field', { surprise: true }, 'surprise'),
    config('__proto__ field', '{"package": "$SHA", "__proto__": {"memory": 1}}', '__proto__'),
    config('constructor field', { constructor: 1 }, 'constructor'),
    config('misspelt field', { timout: 5 }, 'timout'),
    // Absurd limits
    config('negative timeout', { timeout: -1 }, 'timeout'),
    config('negative timeout string', { timeout: '-5s' }, 'timeout'),
    config('zero timeout', { timeout: 0 }, 'timeout'),
    config('huge timeout', { timeout: 1e308 }, 'timeout'),
    config('infinite timeout (1e400)', '{"package": "$SHA", "timeout": 1e400}', 'timeout'),
    config('timeout "NaN"', { timeout: 'NaN' }, 'timeout'),
    config('timeout "Infinity"', { timeout: 'Infinity' }, 'timeout'),
    config('1 TB of memory', { memory: 1024 * 1024 }, 'memory'),
    config('1 TB of memory in bytes', { memory: 1024 ** 4 }, 'memory'),
    config('negative memory', { memory: -1 }, 'memory'),
    config('infinite memory (1e400)', '{"package": "$SHA", "memory": 1e400}', 'memory'),
    config('memory with a unit', { memory: '1gb' }, 'memory'),
    config('zero concurrency', { concurrency: 0 }, 'concurrency'),
    config('a billion concurrency', { concurrency: 1e9 }, 'concurrency'),
    config('negative maxInstances', { maxInstances: -1 }, 'maxInstances'),
    config('minInstances over the limit', { minInstances: 1001 }, 'minInstances'),
    config('minInstances over maxInstances', { minInstances: 5, maxInstances: 2 }, 'minInstances'),
    config('idle timeout of 1000 days', { idleTimeout: '24000h' }, 'idleTimeout'),
    config('idle timeout under a second', { idleTimeout: '0.5s' }, 'idleTimeout'),
    // Async settings
    config('negative async concurrency', { asyncConcurrency: -1 }, 'asyncConcurrency'),
    config('21 retries', { maxRetries: 21 }, 'maxRetries'),
    config('retries as a string', { maxRetries: '2' }, 'maxRetries'),
    config('retry delay of 10 minutes', { retryDelay: '10m' }, 'retryDelay'),
    config('max event age of 8 days', { maxEventAge: '8d' }, 'maxEventAge'),
    config('destination not a function name', { onSuccess: '../keep' }, 'onSuccess'),
    config('destination as a number', { onFailure: 1 }, 'onFailure'),
    config('itself as destination', { onFailure: 'keep' }, 'onFailure'),
    config('destination not deployed', { onSuccess: 'nobody' }, 'onSuccess'),
    // env names and values
    config('env name with =', { env: { 'A=B': '1' } }, 'env.A=B'),
    config('env name with NUL', { env: { 'A\0': '1' } }, 'env.A\0'),
    config('env name starting with a digit', { env: { '1A': '1' } }, 'env.1A'),
    config('empty env name', { env: { '': '1' } }, 'env.'),
    config('env name with a homoglyph', { env: { 'АPI': '1' } }, 'env.АPI'),
    config('env value with NUL', { env: { A: 'a\0b' } }, 'env.A'),
    config('env value with a lone surrogate', '{"package": "$SHA", "env": {"A": "\\ud800"}}', 'env.A'),
    config('env over 64 KB', { env: { A: 'x'.repeat(70_000) } }, 'env'),
    config('reserved env name', { env: { NIMBUS_SOCKET: '/tmp/x' } }, 'env'),
    config('env __proto__', '{"package": "$SHA", "env": {"__proto__": "x"}}', 'env.__proto__'),
    config('handler with NUL', { handler: 'index.js\0' }, 'handler'),
    config('handler with a backslash', { handler: '..\\index.js' }, 'handler'),
    config('handler of 300 characters', { handler: 'a'.repeat(300) }, 'handler'),
    config('package not a sha256', { package: '../../etc/passwd' }, 'package'),
    config('unknown secret', { secrets: ['NOT_THERE'] }, 'secrets', 'UNKNOWN_SECRET'),
    config('secret clashing with env', { secrets: ['KEEP'], env: { KEEP: 'x' } }, 'secrets'),
    config('secret name with a zero-width space', { secrets: ['KE\u200bEP'] }, 'secrets.0'),
    { ...config('JSON over 1 MB', { env: { A: 'x'.repeat(1_100_000) } }, 'body'), status: 413, code: 'PAYLOAD_TOO_LARGE', field: undefined },
    { ...config('not JSON', 'package=x', 'content-type'), headers: { 'content-type': 'text/plain' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },

    // Function names: traversal, separators, NUL, Unicode tricks, length
    ...badFunctionName('..', '..'),
    ...badFunctionName('.', '.'),
    ...badFunctionName('%2e%2e', '%2e%2e'),
    ...badFunctionName('%2E%2E', '%2E%2E'),
    ...badFunctionName('encoded slash', 'a%2Fb'),
    ...badFunctionName('encoded slash alone', '%2f'),
    ...badFunctionName('encoded backslash', 'a%5Cb'),
    ...badFunctionName('encoded NUL', 'a%00b'),
    ...badFunctionName('Cyrillic a', '%D0%B0bc'),
    ...badFunctionName('Greek omicron', 'hell%CE%BF'),
    ...badFunctionName('fullwidth a', '%EF%BD%81'),
    ...badFunctionName('zero-width space', 'ke%E2%80%8Bep'),
    ...badFunctionName('zero-width joiner', 'keep%E2%80%8D'),
    ...badFunctionName('right-to-left override', '%E2%80%AEpeek'),
    ...badFunctionName('byte order mark', '%EF%BB%BFkeep'),
    ...badFunctionName('combining accent', 'keep%CC%81'),
    ...badFunctionName('malformed escape', 'ke%E0%A4%A'),
    ...badFunctionName('upper case', 'Keep'),
    ...badFunctionName('trailing space', 'keep%20'),
    ...badFunctionName('trailing newline', 'keep%0A'),
    ...badFunctionName('64 characters', 'k'.repeat(64)),
    ...badFunctionName('2000 characters', 'k'.repeat(2000)),
    { what: 'traversal to another route', method: 'GET', path: '/api/v1/functions/../secrets', status: 404, code: 'NOT_FOUND' },
    { what: 'encoded traversal to another route', method: 'GET', path: '/api/v1/functions/%2e%2e/secrets', status: 404, code: 'NOT_FOUND' },
    { what: 'unencoded slash', method: 'DELETE', path: '/api/v1/functions/keep/x', status: 404, code: 'NOT_FOUND' },
    { what: 'double slash', method: 'DELETE', path: '/api/v1/functions//keep', status: 404, code: 'NOT_FOUND' },

    // Secret names and values
    ...badSecretName('..', '..'),
    ...badSecretName('%2e%2e', '%2e%2e'),
    ...badSecretName('encoded slash', 'A%2FB'),
    ...badSecretName('encoded NUL', 'KEEP%00'),
    ...badSecretName('Cyrillic A', '%D0%90PI'),
    ...badSecretName('zero-width space', 'KE%E2%80%8BEP'),
    ...badSecretName('right-to-left override', '%E2%80%AEKEEP'),
    ...badSecretName('lower case', 'keep'),
    ...badSecretName('dash', 'KE-EP'),
    ...badSecretName('leading digit', '1KEEP'),
    ...badSecretName('129 characters', 'K'.repeat(129)),
    ...badSecretName('reserved', 'NIMBUS_SOCKET'),
    secretValue('empty value', '', {}, 'value'),
    secretValue('value with NUL', 'a\0b', {}, 'value'),
    secretValue('value not UTF-8', Buffer.from([0x61, 0xff, 0x62]), {}, 'value'),
    secretValue('value over 64 KB', Buffer.alloc(64 * 1024 + 1, 'a'), {}, 'value', 'PAYLOAD_TOO_LARGE', 413),
    secretValue('JSON without value', '{}', JSON_HEADERS, 'value'),
    secretValue('JSON value not a string', '{"value": 1}', JSON_HEADERS, 'value'),
    secretValue('JSON value with a lone surrogate', '{"value": "\\udc00"}', JSON_HEADERS, 'value'),
    secretValue('JSON extra field', '{"value": "x", "other": 1}', JSON_HEADERS, 'other'),
    secretValue('JSON array', '["x"]', JSON_HEADERS, 'body'),
    secretValue('malformed JSON', '{"value": "x', JSON_HEADERS, 'body', 'INVALID_JSON'),
    secretValue('JSON value over 64 KB', JSON.stringify({ value: 'a'.repeat(64 * 1024 + 1) }), JSON_HEADERS, 'value', 'PAYLOAD_TOO_LARGE', 413),
    { what: 'delete a used secret', method: 'DELETE', path: '/api/v1/secrets/KEEP', status: 409, code: 'SECRET_IN_USE' },

    // Query parameters and headers
    { what: 'logs since junk', method: 'GET', path: '/api/v1/functions/keep/logs?since=yesterday', status: 400, code: 'INVALID_REQUEST', field: 'since' },
    { what: 'logs negative limit', method: 'GET', path: '/api/v1/functions/keep/logs?limit=-1', status: 400, code: 'INVALID_REQUEST', field: 'limit' },
    { what: 'logs huge limit', method: 'GET', path: '/api/v1/functions/keep/logs?limit=1e12', status: 400, code: 'INVALID_REQUEST', field: 'limit' },
    { what: 'upload file name with ..', method: 'POST', path: '/api/v1/packages', headers: { 'x-nimbus-filename': '../evil.js' }, body: 'x', status: 400, code: 'INVALID_REQUEST', field: 'x-nimbus-filename' },

    // Malformed HTTP: answered before any route, connection closed
    { what: 'huge header', method: 'GET', path: '/api/v1/functions', headers: { 'x-junk': 'a'.repeat(20_000) }, status: 431, code: 'HEADERS_TOO_LARGE' },
    { what: 'many headers over 16 KB', method: 'GET', path: '/api/v1/functions', headers: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`x-h${i}`, 'v'.repeat(40)])), status: 431, code: 'HEADERS_TOO_LARGE' },
    { what: 'huge URL', method: 'GET', path: `/api/v1/functions/${'k'.repeat(20_000)}`, status: 431, code: 'HEADERS_TOO_LARGE' },
    { what: 'raw NUL in the path', method: 'GET', path: '/api/v1/functions/ke\0ep', status: 400, code: 'BAD_REQUEST' },
    { what: 'raw UTF-8 in the path', method: 'GET', path: '/api/v1/functions/caf\u00c3\u00a9', status: 400, code: 'BAD_REQUEST' },
    { what: 'unknown method', method: 'FROB', path: '/api/v1/functions', status: 400, code: 'BAD_REQUEST' },
    { what: 'unknown Expect', method: 'GET', path: '/api/v1/functions', headers: { expect: 'magic' }, status: 417, code: 'EXPECTATION_FAILED' },
    { what: 'CONNECT', method: 'CONNECT', path: 'example.com:443', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { what: 'bad content-length', method: 'PUT', path: '/api/v1/functions/keep', headers: { 'content-length': 'ten' }, status: 400, code: 'BAD_REQUEST' },
    { what: 'two content-lengths', method: 'PUT', path: '/api/v1/functions/keep', headers: { 'content-length': '1', 'Content-Length': '2' }, body: 'xx', status: 400, code: 'BAD_REQUEST' },
    { what: 'bad chunk', method: 'PUT', path: '/api/v1/functions/keep', headers: { 'transfer-encoding': 'chunked', ...JSON_HEADERS }, body: 'zz\r\nabc\r\n0\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
    { what: 'header without a colon', method: '', path: '', raw: Buffer.from('GET /api/v1/functions HTTP/1.1\r\nhost: x\r\nnocolon\r\n\r\n'), status: 400, code: 'BAD_REQUEST' },
    { what: 'not HTTP at all', method: '', path: '', raw: Buffer.from('\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003junk\r\n\r\n', 'latin1'), status: 400, code: 'BAD_REQUEST' },
  ];

  test('each case gets its status, a catalogue code in header and body, and the field', async () => {
    for (const c of cases()) {
      const request = c.raw ?? rawRequest(c.method, c.path, c.headers, c.body);
      const res = await rawExchange(platform.url, request);
      const label = `${c.what}: ${res.raw.slice(0, 300)}`;
      assert.equal(res.status, c.status, label);
      assert.equal(res.headers['x-nimbus-error'], c.code, label);
      assert.equal(res.json?.error?.code, c.code, label);
      assert.equal(typeof res.json?.error?.message, 'string', label);
      assert.equal(res.json?.error?.details?.field, c.field, label);
    }
  });

  test('nothing changed, and the platform still serves', async () => {
    assert.deepEqual(await snapshot(), before_);
    assert.equal((await invoke(platform.url, 'keep')).text, 'kept value');
    assert.equal((await apiCall(platform.url, 'GET', '/healthz')).status, 200);
  });
});
