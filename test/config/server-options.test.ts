import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { SERVER_DEFAULTS } from '../../src/config/server-defaults.js';
import { compileServerOptions, ServerOptionsError, type ServerOptions } from '../../src/config/server-options.js';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { DEFAULT_INSTANCE_LIMITS } from '../../src/core/spec.js';
import { DEFAULT_PACKAGE_LIMITS } from '../../src/packages/types.js';
import { createNodeAdapter } from '../../src/runtime-adapters/index.js';
import { startServer } from '../../src/server.js';

const silent = pino({ level: 'silent' });

describe('compileServerOptions', () => {
  test('fills every absent option with the platform default', () => {
    const o = compileServerOptions({ logger: silent });
    // The values themselves, so changing a default is a deliberate change of this test too.
    assert.deepEqual(
      { ...o, clock: undefined, logger: undefined, callbackHosts: undefined },
      {
        host: '127.0.0.1',
        port: 8080,
        dataDir: resolve('.nimbus'),
        maxBodyBytes: 6 * 1024 * 1024,
        packageLimits: { maxCompressedBytes: 50 * 1024 * 1024, maxUnpackedBytes: 250 * 1024 * 1024, maxEntries: 10_000 },
        scaleIntervalMs: 1000,
        maxQueue: 1000,
        maxQueueWaitMs: 10_000,
        warmPoolSize: 1,
        sandbox: 'auto',
        instanceLimits: { maxProcesses: 128, maxOpenFiles: 1024, tmpMb: 64 },
        startTimeoutMs: 10_000,
        stopGraceMs: 3000,
        defaultAuth: 'public',
        domain: 'localhost',
        allowHostNetwork: false,
        exposeErrors: false,
        metricsPublic: false,
        retainMs: 7 * 86_400_000,
        maxEndedInvocations: 100_000,
        callbackHosts: undefined,
        asyncWorkers: 256,
        triggerBacklog: 1000,
        ingressKeyFile: undefined,
        records: true,
        metrics: true,
        maxRecords: 1_000_000,
        prices: null,
        tracesEndpoint: undefined,
        serviceName: 'nimbus',
        logRetentionBytes: 32 * 1024 * 1024,
        runtimes: {},
        backend: 'local',
        kubernetes: {
          namespace: 'nimbus-fn',
          images: { node: 'ghcr.io/nimbus-faas/runtime-node:0.1.0', python: 'ghcr.io/nimbus-faas/runtime-python:0.1.0' },
          packagePort: 8081,
        },
        clock: undefined,
        logger: undefined,
      },
    );
    // No list: callbacks may go to any host.
    assert.equal(o.callbackHosts(new URL('http://10.0.0.1:6379/')), true);
    assert.equal(o.clock, systemClock);
    assert.deepEqual(o.packageLimits, DEFAULT_PACKAGE_LIMITS);
    assert.deepEqual(o.instanceLimits, DEFAULT_INSTANCE_LIMITS);
  });

  test('a platform beyond loopback deploys functions with key auth unless told otherwise', () => {
    assert.equal(compileServerOptions({ host: '0.0.0.0', logger: silent }).defaultAuth, 'key');
    assert.equal(compileServerOptions({ host: '::1', logger: silent }).defaultAuth, 'public');
    assert.equal(compileServerOptions({ host: 'localhost', logger: silent }).defaultAuth, 'public');
    assert.equal(compileServerOptions({ host: '0.0.0.0', defaultAuth: 'public', logger: silent }).defaultAuth, 'public');
    assert.equal(compileServerOptions({ defaultAuth: 'key', logger: silent }).defaultAuth, 'key');
  });

  test('keeps given values; nested limits merge with the defaults, and undefined means the default', () => {
    const clock = new ManualClock(0);
    const node = createNodeAdapter();
    const o = compileServerOptions({
      port: 0,
      dataDir: 'some/dir',
      maxQueue: 2,
      maxQueueWaitMs: undefined,
      // A duration flag's milliseconds need not be whole (1.1s).
      stopGraceMs: 1100.0000000000002,
      instanceLimits: { tmpMb: 16, maxProcesses: undefined },
      packageLimits: { maxEntries: 5 },
      runtimes: { node },
      sandbox: 'process',
      domain: '',
      exposeErrors: true,
      clock,
      logger: silent,
    });
    assert.equal(o.port, 0);
    assert.equal(o.dataDir, resolve('some/dir'));
    assert.equal(o.maxQueue, 2);
    assert.equal(o.maxQueueWaitMs, SERVER_DEFAULTS.maxQueueWaitMs);
    assert.equal(o.stopGraceMs, 1100.0000000000002);
    assert.deepEqual(o.instanceLimits, { ...DEFAULT_INSTANCE_LIMITS, tmpMb: 16 });
    assert.deepEqual(o.packageLimits, { ...DEFAULT_PACKAGE_LIMITS, maxEntries: 5 });
    assert.equal(o.runtimes.node, node);
    assert.equal(o.sandbox, 'process');
    assert.equal(o.domain, '');
    assert.equal(o.exposeErrors, true);
    assert.equal(o.clock, clock);
    assert.equal(o.logger, silent);
  });

  test('async options: retention, workers, and callback hosts compiled into a check', () => {
    const o = compileServerOptions({ retainMs: 60_000, maxEndedInvocations: 1000, asyncWorkers: 10_000, callbackHosts: ['hooks.example.com', '*.internal.example:8443'], logger: silent });
    assert.deepEqual([o.retainMs, o.maxEndedInvocations, o.asyncWorkers], [60_000, 1000, 10_000]);
    const allows = (url: string) => o.callbackHosts(new URL(url));
    assert.equal(allows('https://hooks.example.com/done'), true);
    assert.equal(allows('https://a.internal.example:8443/'), true);
    assert.equal(allows('https://a.internal.example/'), false);
    assert.equal(allows('http://127.0.0.1/'), false);
  });

  test('answers a frozen object, nested limits included; the defaults are frozen too', () => {
    const o = compileServerOptions({ logger: silent });
    for (const frozen of [o, o.packageLimits, o.instanceLimits, o.runtimes, SERVER_DEFAULTS, SERVER_DEFAULTS.instanceLimits, SERVER_DEFAULTS.packageLimits, SERVER_DEFAULTS.callbackHosts]) {
      assert.ok(Object.isFrozen(frozen));
    }
    assert.throws(() => {
      (o as { maxQueue: number }).maxQueue = 5;
    }, TypeError);
    assert.throws(() => {
      (o.instanceLimits as { tmpMb: number }).tmpMb = 5;
    }, TypeError);
  });

  test('refuses a bad value naming the key, the value and what is allowed', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ maxQueue: 0 }, 'maxQueue', /^maxQueue is 0; it must be a whole number from 1 to 1000000$/],
      [{ port: 70_000 }, 'port', /^port is 70000; it must be a whole number from 0 to 65535$/],
      [{ maxQueueWaitMs: 0.5 }, 'maxQueueWaitMs', /^maxQueueWaitMs is 0\.5; it must be a number of milliseconds from 1 to 3600000$/],
      [{ maxQueue: 1.5 }, 'maxQueue', /^maxQueue is 1\.5; it must be a whole number from 1 to 1000000$/],
      [{ warmPoolSize: -1 }, 'warmPoolSize', /^warmPoolSize is -1; it must be a whole number from 0 to 100$/],
      [{ scaleIntervalMs: 0 }, 'scaleIntervalMs', /^scaleIntervalMs is 0; it must be a number of milliseconds from 10 to 60000$/],
      [{ maxBodyBytes: 0 }, 'maxBodyBytes', /^maxBodyBytes is 0; it must be a whole number of at least 1$/],
      [{ maxBodyBytes: Number.NaN }, 'maxBodyBytes', /^maxBodyBytes is NaN; it must be a whole number of at least 1$/],
      [{ sandbox: 'docker' }, 'sandbox', /^sandbox is "docker"; it must be one of auto, bubblewrap, process$/],
      [{ defaultAuth: 'open' }, 'defaultAuth', /^defaultAuth is "open"; it must be one of public, key$/],
      [{ instanceLimits: { tmpMb: 0 } }, 'instanceLimits.tmpMb', /^instanceLimits\.tmpMb is 0; it must be a whole number from 1 to 4096$/],
      [{ packageLimits: { maxEntries: '10' } }, 'packageLimits.maxEntries', /^packageLimits\.maxEntries is "10"; it must be a whole number of at least 1$/],
      [{ exposeErrors: 'yes' }, 'exposeErrors', /^exposeErrors is "yes"; it must be true or false$/],
      [{ host: 8080 }, 'host', /^host is 8080; it must be a string$/],
      [{ clock: {} }, 'clock', /^clock is an object; it must be a Clock \(with now, monotonic, every, after\)$/],
      [{ runtimes: { node: 'node' } }, 'runtimes.node', /^runtimes\.node is "node"; it must be a runtime adapter/],
      [{ retainMs: 59_999 }, 'retainMs', /^retainMs is 59999; it must be a number of milliseconds from 60000 to 31536000000$/],
      [{ retainMs: 366 * 86_400_000 }, 'retainMs', /^retainMs is 31622400000; it must be a number of milliseconds from 60000 to 31536000000$/],
      [{ maxEndedInvocations: 999 }, 'maxEndedInvocations', /^maxEndedInvocations is 999; it must be a whole number of at least 1000$/],
      [{ asyncWorkers: 0 }, 'asyncWorkers', /^asyncWorkers is 0; it must be a whole number from 1 to 10000$/],
      [{ asyncWorkers: 10_001 }, 'asyncWorkers', /^asyncWorkers is 10001; it must be a whole number from 1 to 10000$/],
      [{ triggerBacklog: 0 }, 'triggerBacklog', /^triggerBacklog is 0; it must be a whole number from 1 to 1000000$/],
      [{ callbackHosts: 'hooks.example.com' }, 'callbackHosts', /^callbackHosts is "hooks\.example\.com"; it must be a list of host patterns$/],
      [{ callbackHosts: ['ok.example', 'https://hooks.example.com/'] }, 'callbackHosts.1', /^callbackHosts\.1 is "https:\/\/hooks\.example\.com\/"; it must be a host name, \*\.domain or IP address .*without scheme, path or user/],
      [{ callbackHosts: ['::1'] }, 'callbackHosts.0', /^callbackHosts\.0 is "::1"; it must be an IPv6 address in brackets, e\.g\. \[::1\]/],
      [{ callbackHosts: [42] }, 'callbackHosts.0', /^callbackHosts\.0 is 42; it must be a host pattern \(a string\)$/],
      [{ backend: 'nomad' }, 'backend', /^backend is "nomad"; it must be one of local, kubernetes$/],
      [{ kubernetes: { packageUrl: 'not a url' } }, 'kubernetes.packageUrl', /^kubernetes\.packageUrl is "not a url"; it must be an http\(s\) URL pods reach the control plane at$/],
      [{ kubernetes: { images: { exec: 'x' } } }, 'kubernetes.images.exec', /^kubernetes\.images\.exec is not a server option; the options of kubernetes\.images are node, python$/],
      [{ hots: '0.0.0.0' }, 'hots', /^hots is not a server option; the options are host, port, dataDir, .*, logger$/],
      [{ instanceLimits: { maxProc: 8 } }, 'instanceLimits.maxProc', /^instanceLimits\.maxProc is not a server option; the options of instanceLimits are maxProcesses, maxOpenFiles, tmpMb$/],
    ];
    for (const [raw, key, message] of cases) {
      assert.throws(
        () => compileServerOptions(raw as ServerOptions),
        (err: unknown) => err instanceof ServerOptionsError && err.key === key && message.test(err.message),
        `${JSON.stringify(raw)} should fail with ${message}`,
      );
    }
  });

  test('startServer refuses bad options before it starts or creates anything', async () => {
    const dataDir = join(tmpdir(), `nimbus-options-${process.pid}-${Date.now()}`);
    await assert.rejects(startServer({ dataDir, maxQueue: 0, logger: silent }), (err: unknown) => err instanceof ServerOptionsError && err.key === 'maxQueue');
    assert.equal(existsSync(dataDir), false);
  });
});
