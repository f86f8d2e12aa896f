/**
 * `nimbus up --help` shows the defaults the platform compiles, not values of its own: whatever a
 * default becomes in src/config/server-defaults.ts, the help says it.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { formatSize } from '../../src/cli/flags.js';
import { SERVER_DEFAULTS } from '../../src/config/server-defaults.js';
import { compileServerOptions } from '../../src/config/server-options.js';
import { formatDuration } from '../../src/core/duration.js';
import { runInProcess } from './helpers.js';

/** The help's options, by flag (e.g. `--max-queue`), each with its description on one line. */
async function upOptions(): Promise<Map<string, string>> {
  const help = await runInProcess(['up', '--help']);
  assert.equal(help.code, 0);
  const options = new Map<string, string>();
  let current: string | undefined;
  for (const line of help.stdout.split('\n')) {
    const start = /^ {2}(?:-\w, )?(--[\w-]+)(?: <[^>]+>)?\s+(.*)$/.exec(line);
    if (start?.[1] !== undefined) {
      current = start[1];
      options.set(current, start[2] ?? '');
    } else if (current !== undefined && /^ {4,}\S/.test(line)) {
      options.set(current, `${options.get(current)} ${line.trim()}`);
    } else {
      current = undefined;
    }
  }
  return options;
}

describe('nimbus up --help', () => {
  it('shows the compiled defaults', async () => {
    const compiled = compileServerOptions({ logger: pino({ level: 'silent' }) });
    const options = await upOptions();
    const shows = (flag: string, value: string): void => {
      const description = options.get(flag);
      assert.ok(description !== undefined, `${flag} is in the help`);
      assert.ok(description.includes(`default: ${value}`), `${flag}: ${JSON.stringify(description)} shows default ${value}`);
    };
    shows('--host', JSON.stringify(compiled.host));
    shows('--port', String(compiled.port));
    shows('--data-dir', JSON.stringify(SERVER_DEFAULTS.dataDir));
    assert.equal(resolve(SERVER_DEFAULTS.dataDir), compiled.dataDir);
    shows('--domain', JSON.stringify(compiled.domain));
    shows('--max-body', formatSize(compiled.maxBodyBytes));
    shows('--max-queue', String(compiled.maxQueue));
    shows('--max-queue-wait', formatDuration(compiled.maxQueueWaitMs));
    shows('--warm-pool', String(compiled.warmPoolSize));
    shows('--sandbox', JSON.stringify(compiled.sandbox));
    shows('--max-processes', String(compiled.instanceLimits.maxProcesses));
    shows('--max-open-files', String(compiled.instanceLimits.maxOpenFiles));
    shows('--tmp-size', String(compiled.instanceLimits.tmpMb));
    shows('--async-workers', String(compiled.asyncWorkers));
    shows('--retain', formatDuration(compiled.retainMs));
    shows('--max-ended-invocations', String(compiled.maxEndedInvocations));
    // The compiled option is a check; the list it was compiled from is the default's.
    shows('--callback-hosts', `'${SERVER_DEFAULTS.callbackHosts.join(',')}', any host`);
    assert.equal(compiled.callbackHosts(new URL('http://10.0.0.1/')), true, 'the default list allows any host');
    // The rule, by where the platform listens: the help's default is the loopback one.
    shows('--default-auth', `${compiled.defaultAuth} on a loopback --host, else ${compileServerOptions({ host: '0.0.0.0', logger: pino({ level: 'silent' }) }).defaultAuth}`);
  });

  it('writes sizes the way --max-body reads them', () => {
    assert.equal(formatSize(6 * 1024 * 1024), '6mb');
    assert.equal(formatSize(512 * 1024), '512kb');
    assert.equal(formatSize(1024 ** 3), '1gb');
    assert.equal(formatSize(1536), '1536');
  });
});
