import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  collectEnv,
  collectHeader,
  headersToObject,
  parseDestination,
  parseDurationFlag,
  parseEnvPair,
  parseFunctionName,
  parseHeader,
  parseHostList,
  parseIntFlag,
  parseMemory,
  parseCallbackUrl,
  parseIdempotencyKey,
  parseMethod,
  parsePort,
  parseSize,
  parseSubPath,
} from '../../src/cli/flags.js';
import { deployBody } from '../../src/cli/commands/deploy.js';
import { contentTypeForData, contentTypeForFile } from '../../src/cli/invoke-request.js';
import { parseSince } from '../../src/cli/commands/logs.js';
import { normalizeBaseUrl } from '../../src/cli/client.js';
import { LIMITS } from '../../src/core/spec.js';

const invalid = (fn: () => unknown, message: RegExp): void =>
  assert.throws(fn, (err: unknown) => err instanceof InvalidArgumentError && message.test(err.message));

describe('--env KEY=VALUE', () => {
  it('splits at the first =', () => {
    assert.deepEqual(parseEnvPair('A=b=c'), ['A', 'b=c']);
    assert.deepEqual(parseEnvPair('EMPTY='), ['EMPTY', '']);
    assert.deepEqual(parseEnvPair('_x1=  spaced '), ['_x1', '  spaced ']);
  });
  it('refuses values without KEY=', () => {
    invalid(() => parseEnvPair('FOO'), /--env needs KEY=VALUE.*"FOO"/);
    invalid(() => parseEnvPair('=x'), /--env needs KEY=VALUE/);
  });
  it('refuses bad and reserved keys', () => {
    invalid(() => parseEnvPair('1A=x'), /not a valid name/);
    invalid(() => parseEnvPair('A-B=x'), /not a valid name/);
    invalid(() => parseEnvPair('NIMBUS_X=1'), /reserved/);
  });
  it('collects repeated flags, later values winning', () => {
    let env = collectEnv('A=1', undefined);
    env = collectEnv('B=2', env);
    env = collectEnv('A=3', env);
    assert.deepEqual(env, { A: '3', B: '2' });
  });
});

describe("--header 'Key: Value'", () => {
  it('splits at the first colon and trims', () => {
    assert.deepEqual(parseHeader('Content-Type: application/json'), ['Content-Type', 'application/json']);
    assert.deepEqual(parseHeader('X-Url:http://a:1/b'), ['X-Url', 'http://a:1/b']);
    assert.deepEqual(parseHeader('X-Empty:'), ['X-Empty', '']);
  });
  it('refuses malformed headers', () => {
    invalid(() => parseHeader('NoColon'), /--header needs 'Key: Value'/);
    invalid(() => parseHeader(': value'), /--header needs/);
    invalid(() => parseHeader('Bad Name: x'), /not a valid HTTP header name/);
  });
  it('collects repeated headers and groups them by name', () => {
    const pairs = collectHeader('X-A: 2', collectHeader('x-a: 1', collectHeader('Accept: */*', undefined)));
    assert.deepEqual(headersToObject(pairs), { accept: '*/*', 'x-a': ['1', '2'] });
  });
});

describe('durations', () => {
  it('parses units and bare seconds into milliseconds', () => {
    assert.equal(parseDurationFlag('--timeout', '30s'), 30_000);
    assert.equal(parseDurationFlag('--timeout', '500ms'), 500);
    assert.equal(parseDurationFlag('--timeout', '5m'), 300_000);
    assert.equal(parseDurationFlag('--timeout', '1h'), 3_600_000);
    assert.equal(parseDurationFlag('--timeout', '2.5'), 2_500);
    assert.equal(parseDurationFlag('--retain', '7d'), 7 * 86_400_000);
  });
  it('refuses malformed values and values out of range', () => {
    invalid(() => parseDurationFlag('--timeout', 'soon'), /--timeout must be a duration such as 500ms, 30s/);
    invalid(() => parseDurationFlag('--timeout', '2h', LIMITS.timeoutMs), /--timeout must be between 100ms and 1h/);
    invalid(() => parseDurationFlag('--idle-timeout', '10ms', LIMITS.idleTimeoutMs), /between 1s and 1d|between 1s and 24h/);
    invalid(() => parseDurationFlag('--retry-delay', '10m', LIMITS.retryDelayMs), /--retry-delay must be between 100ms and 5m, got "10m"/);
    invalid(() => parseDurationFlag('--max-event-age', '8d', LIMITS.maxEventAgeMs), /--max-event-age must be between 1s and 7d/);
  });
  it('--since accepts durations and ISO timestamps', () => {
    assert.equal(parseSince('10m'), '10m');
    assert.equal(parseSince('2026-11-23T10:00:00Z'), '2026-11-23T10:00:00Z');
    invalid(() => parseSince('yesterday'), /--since must be/);
  });
});

describe('numbers and sizes', () => {
  it('--memory takes MB, with optional units', () => {
    assert.equal(parseMemory('512'), 512);
    assert.equal(parseMemory('512mb'), 512);
    assert.equal(parseMemory('1gb'), 1024);
    assert.equal(parseMemory('2G'), 2048);
    invalid(() => parseMemory('lots'), /--memory must be a number of MB/);
    invalid(() => parseMemory('32'), /between 64 and 16384 MB/);
    invalid(() => parseMemory('64.5'), /whole number/);
  });
  it('whole-number flags', () => {
    assert.equal(parseIntFlag('--concurrency', '8', LIMITS.concurrency), 8);
    invalid(() => parseIntFlag('--concurrency', '0', LIMITS.concurrency), /between 1 and 1000/);
    invalid(() => parseIntFlag('--concurrency', '1.5', LIMITS.concurrency), /whole number/);
    invalid(() => parseIntFlag('--max-instances', 'ten', LIMITS.maxInstances), /--max-instances must be a whole number/);
    assert.equal(parseIntFlag('--max-retries', '0', LIMITS.maxRetries), 0);
    invalid(() => parseIntFlag('--max-retries', '21', LIMITS.maxRetries), /--max-retries must be between 0 and 20, got 21/);
    assert.equal(parseIntFlag('--async-concurrency', '0', LIMITS.asyncConcurrency), 0);
    invalid(() => parseIntFlag('--async-concurrency', '10001', LIMITS.asyncConcurrency), /between 0 and 10000/);
    // No upper bound: the message says only the lower one.
    invalid(() => parseIntFlag('--max-ended-invocations', '10', { min: 1000, max: Infinity }), /--max-ended-invocations must be at least 1000, got 10\./);
  });
  it('--port', () => {
    assert.equal(parsePort('0'), 0);
    assert.equal(parsePort('8080'), 8080);
    invalid(() => parsePort('70000'), /between 0 and 65535/);
  });
  it('--max-body sizes', () => {
    assert.equal(parseSize('--max-body', '6mb'), 6 * 1024 * 1024);
    assert.equal(parseSize('--max-body', '512KB'), 512 * 1024);
    assert.equal(parseSize('--max-body', '100'), 100);
    assert.equal(parseSize('--max-body', '1.5m'), 1.5 * 1024 * 1024);
    invalid(() => parseSize('--max-body', 'big'), /--max-body must be a size/);
    invalid(() => parseSize('--max-body', '5tb'), /--max-body must be a size/);
  });
});

describe('names, methods, paths, URLs', () => {
  it('function names are DNS labels', () => {
    assert.equal(parseFunctionName('hello-2'), 'hello-2');
    invalid(() => parseFunctionName('Hello'), /invalid function name/);
    invalid(() => parseFunctionName('a_b'), /invalid function name/);
    invalid(() => parseFunctionName('-a'), /invalid function name/);
  });
  it('--callback-hosts lists are comma-separated, trimmed, without empty items', () => {
    assert.deepEqual(parseHostList('a.example, *.b.example:443 ,[::1]'), ['a.example', '*.b.example:443', '[::1]']);
    assert.deepEqual(parseHostList(''), []);
    assert.deepEqual(parseHostList(' , a.example,'), ['a.example']);
  });
  it("async destinations are function names, or '' for none", () => {
    assert.equal(parseDestination('notify'), 'notify');
    assert.equal(parseDestination(''), '');
    invalid(() => parseDestination('Notify'), /invalid function name/);
  });
  it('methods are upper-cased tokens', () => {
    assert.equal(parseMethod('patch'), 'PATCH');
    invalid(() => parseMethod('GE T'), /--method must be an HTTP method/);
  });
  it('sub-paths get a leading slash', () => {
    assert.equal(parseSubPath('users/1'), '/users/1');
    assert.equal(parseSubPath('/a?b=1'), '/a?b=1');
    assert.equal(parseSubPath('?q=1'), '?q=1');
    invalid(() => parseSubPath('/a b'), /must not contain spaces/);
  });
  it('--idempotency-key: 1 to 256 printable ASCII characters, untrimmed', () => {
    assert.equal(parseIdempotencyKey('order-1234'), 'order-1234');
    assert.equal(parseIdempotencyKey('a b'), 'a b');
    assert.equal(parseIdempotencyKey('k'.repeat(256)), 'k'.repeat(256));
    invalid(() => parseIdempotencyKey(''), /1 to 256 characters, got 0/);
    invalid(() => parseIdempotencyKey('k'.repeat(257)), /1 to 256 characters, got 257/);
    invalid(() => parseIdempotencyKey('line\nbreak'), /printable ASCII/);
    invalid(() => parseIdempotencyKey('café'), /printable ASCII/);
    invalid(() => parseIdempotencyKey(' padded'), /leading or trailing spaces/);
  });
  it('--callback-url: an absolute http(s) URL', () => {
    assert.equal(parseCallbackUrl('https://example.com/hook?x=1'), 'https://example.com/hook?x=1');
    assert.equal(parseCallbackUrl('http://127.0.0.1:9000/done'), 'http://127.0.0.1:9000/done');
    invalid(() => parseCallbackUrl('/relative'), /must be an absolute URL/);
    invalid(() => parseCallbackUrl('ftp://example.com/'), /http:\/\/ or https:\/\/ URL, got "ftp:"/);
    invalid(() => parseCallbackUrl('https://example.com/a\nb'), /must not contain spaces or control characters/);
    invalid(() => parseCallbackUrl('https://user:pw@example.com/hook'), /must not carry credentials/);
    invalid(() => parseCallbackUrl(`https://example.com/${'a'.repeat(2048)}`), /at most 2048 characters/);
  });
  it('platform URLs are normalised', () => {
    assert.equal(normalizeBaseUrl('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
    assert.equal(normalizeBaseUrl('https://example.com/nimbus/'), 'https://example.com/nimbus');
    assert.throws(() => normalizeBaseUrl('localhost:8080'), /Invalid platform URL|only http/);
    assert.throws(() => normalizeBaseUrl('ftp://x'), /only http/);
  });
});

describe('request bodies', () => {
  it('deploy sends only the flags given, durations in seconds', () => {
    assert.deepEqual(deployBody('a'.repeat(64), {}), { package: 'a'.repeat(64) });
    assert.deepEqual(
      deployBody('b', { runtime: 'python', handler: 'h.handler', env: { A: '1' }, timeout: 500, memory: 512, idleTimeout: 600_000, concurrency: 2, maxInstances: 3 }),
      { package: 'b', runtime: 'python', handler: 'h.handler', env: { A: '1' }, timeout: 0.5, memory: 512, idleTimeout: 600, concurrency: 2, maxInstances: 3 },
    );
  });
  it('deploy sends async settings in API units, and null for a destination given as empty', () => {
    assert.deepEqual(
      deployBody('c', { asyncConcurrency: 4, maxRetries: 0, retryDelay: 1500, maxEventAge: 7 * 86_400_000, onSuccess: 'notify', onFailure: '' }),
      { package: 'c', asyncConcurrency: 4, maxRetries: 0, retryDelay: 1.5, maxEventAge: 604_800, onSuccess: 'notify', onFailure: null },
    );
  });
  it('invoke picks a content type', () => {
    assert.equal(contentTypeForData('{"a":1}'), 'application/json');
    assert.equal(contentTypeForData('hello'), 'text/plain; charset=utf-8');
    assert.equal(contentTypeForFile('x.JSON'), 'application/json');
    assert.equal(contentTypeForFile('photo.jpg'), 'image/jpeg');
    assert.equal(contentTypeForFile('blob.bin'), 'application/octet-stream');
  });
});
