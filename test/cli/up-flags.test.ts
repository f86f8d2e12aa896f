/**
 * `nimbus up` refuses bad async, tracing and log option values as usage errors (exit 2) before it
 * starts or creates anything: the flags' own parsers, and the callback host patterns and the OTLP
 * endpoint (flag or OTEL_EXPORTER_OTLP_* variable), which the platform's options check.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, runInProcess, tempDir } from './helpers.js';

describe('nimbus up: async, tracing and log options', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await removeDir(dir);
  });

  it('refuses bad values with exit 2, creating nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--retain', '30s'], /--retain must be between 1m and 365d, got "30s"/],
      [['--retain', 'forever'], /--retain must be a duration/],
      [['--max-ended-invocations', '999'], /--max-ended-invocations must be at least 1000, got 999/],
      [['--async-workers', '0'], /--async-workers must be between 1 and 10000/],
      [['--callback-hosts', 'hooks.example.com,https://evil.example/'], /^Error: Invalid --callback-hosts: callbackHosts\.1 is "https:\/\/evil\.example\/"; it must be a host name.*without scheme, path or user/m],
      [['--callback-hosts', '::1'], /callbackHosts\.0 is "::1"; it must be an IPv6 address in brackets/],
      [['--otlp-endpoint', 'ftp://collector'], /^Error: Invalid --otlp-endpoint \(or OTEL_EXPORTER_OTLP_\*ENDPOINT\): otlpEndpoint is "ftp:\/\/collector"; it must be an http\(s\) URL/m],
      [['--log-retention', '1kb'], /--log-retention must be at least 4kb/],
      [['--log-retention', 'lots'], /--log-retention must be a size/],
    ];
    for (const [flags, message] of cases) {
      const dataDir = join(dir, 'data');
      const r = await runInProcess(['up', '--port', '0', '--data-dir', dataDir, ...flags], { cwd: dir });
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(dataDir), false, `${flags.join(' ')} created the data dir`);
    }
  });

  it('takes the OTLP endpoint from the standard variables, the traces one first', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://base' }, /otlpEndpoint is "ftp:\/\/base"/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://traces' }, /otlpEndpoint is "ftp:\/\/traces"/],
    ];
    for (const [env, message] of cases) {
      const dataDir = join(dir, 'data');
      const r = await runInProcess(['up', '--port', '0', '--data-dir', dataDir], { cwd: dir, env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(existsSync(dataDir), false);
    }
  });
});
