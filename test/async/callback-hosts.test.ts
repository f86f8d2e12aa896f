import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callbackHostProblem, compileCallbackHosts } from '../../src/async/callback-hosts.js';

/** The URLs, of those given, that the patterns allow. */
function allowed(patterns: string[], urls: string[]): string[] {
  const check = compileCallbackHosts(patterns);
  return urls.filter((url) => check(new URL(url)));
}

describe('callback hosts', () => {
  test('an empty list allows every host', () => {
    const urls = ['http://127.0.0.1/', 'https://anything.example/', 'http://[::1]:9/'];
    assert.deepEqual(allowed([], urls), urls);
  });

  test('an exact name matches that host only, on any port unless one is given', () => {
    const urls = ['https://hooks.example.com/x', 'http://hooks.example.com:8080/', 'https://a.hooks.example.com/', 'https://example.com/', 'https://hooks.example.com.evil.test/'];
    assert.deepEqual(allowed(['hooks.example.com'], urls), ['https://hooks.example.com/x', 'http://hooks.example.com:8080/']);
  });

  test('a wildcard matches subdomains at any depth, not the name itself', () => {
    const urls = ['https://a.example.com/', 'https://a.b.example.com/', 'https://example.com/', 'https://badexample.com/', 'https://example.com.evil.test/'];
    assert.deepEqual(allowed(['*.example.com'], urls), ['https://a.example.com/', 'https://a.b.example.com/']);
  });

  test('a port must match, the scheme default counting when the URL names none', () => {
    const urls = ['https://hooks.example.com/', 'https://hooks.example.com:443/', 'http://hooks.example.com/', 'https://hooks.example.com:8443/'];
    assert.deepEqual(allowed(['hooks.example.com:443'], urls), ['https://hooks.example.com/', 'https://hooks.example.com:443/']);
    assert.deepEqual(allowed(['*.example.com:8443'], ['https://a.example.com:8443/', 'https://a.example.com/']), ['https://a.example.com:8443/']);
  });

  test('IP addresses: IPv4, and IPv6 literals in brackets in any spelling', () => {
    assert.deepEqual(allowed(['[::1]'], ['http://[::1]/', 'http://[0:0:0:0:0:0:0:1]:8080/', 'http://127.0.0.1/']), ['http://[::1]/', 'http://[0:0:0:0:0:0:0:1]:8080/']);
    assert.deepEqual(allowed(['[0::1]:8080'], ['http://[::1]:8080/', 'http://[::1]:8081/']), ['http://[::1]:8080/']);
    // Other spellings of an IPv4 address are the same address to the URL parser, on both sides.
    assert.deepEqual(allowed(['10.0.0.5'], ['http://10.0.0.5/', 'http://0x0a.0.0.5/', 'http://167772165/', 'http://10.0.0.6/']), ['http://10.0.0.5/', 'http://0x0a.0.0.5/', 'http://167772165/']);
  });

  test('names compare without case and without a trailing dot, on either side', () => {
    const urls = ['https://HOOKS.Example.com/', 'https://hooks.example.com./', 'https://a.EXAMPLE.org./'];
    assert.deepEqual(allowed(['Hooks.EXAMPLE.com.', '*.Example.ORG'], urls), urls);
    assert.deepEqual(allowed(['hooks.example.com'], ['https://hooks.example.com./']), ['https://hooks.example.com./']);
  });

  test('international names compare in their punycode form', () => {
    assert.deepEqual(allowed(['bücher.example'], ['https://xn--bcher-kva.example/', 'https://BÜCHER.example/']), ['https://xn--bcher-kva.example/', 'https://BÜCHER.example/']);
  });

  test('any of several patterns may allow', () => {
    assert.deepEqual(allowed(['a.test', '*.b.test:9000'], ['http://a.test/', 'http://x.b.test:9000/', 'http://x.b.test/', 'http://c.test/']), ['http://a.test/', 'http://x.b.test:9000/']);
  });

  test('refuses what is not a host pattern, saying what it must be', () => {
    const cases: [string, RegExp][] = [
      ['', /host name/],
      ['https://hooks.example.com', /without scheme, path or user/],
      ['hooks.example.com/path', /without scheme, path or user/],
      ['user@hooks.example.com', /without scheme, path or user/],
      ['hooks example.com', /host name/],
      ['::1', /IPv6 address in brackets/],
      ['[::1', /host name/],
      ['[zz::1]', /host name/],
      ['hooks.example.com:0', /port from 1 to 65535/],
      ['hooks.example.com:70000', /port from 1 to 65535/],
      ['hooks.example.com:http', /host name/],
      ['a.*.example.com', /at most one wildcard, as its first label/],
      ['*', /host name/],
      ['*.', /host name/],
      ['*.10.0.0.1', /domain name after \*\./],
      ['*.[::1]', /host name/],
      ['.', /host name/],
    ];
    for (const [pattern, message] of cases) {
      const problem = callbackHostProblem(pattern);
      assert.ok(problem !== undefined && message.test(problem), `${JSON.stringify(pattern)}: ${problem}`);
      assert.throws(() => compileCallbackHosts(['ok.example', pattern]), (err: unknown) => err instanceof Error && err.message.includes(JSON.stringify(pattern)));
    }
    for (const ok of ['localhost', 'hooks.example.com', '*.example.com', '*.localhost:8080', '10.0.0.1:80', '[::1]', '[fe80::1]:443', ' padded.example ']) {
      assert.equal(callbackHostProblem(ok), undefined, ok);
    }
  });
});
