import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colors, formatAgo, formatBytes, formatClock, formatJson, formatKeyValues, formatTable, visibleLength } from '../../src/cli/format.js';
import { formatFunctionDetails, } from '../../src/cli/commands/get.js';
import { formatFunctionTable } from '../../src/cli/commands/ls.js';
import { formatLogLine, shortInvocationId } from '../../src/cli/commands/logs.js';
import type { FunctionInfo } from '../../src/cli/client.js';

const plain = colors(false);

describe('formatTable', () => {
  it('aligns columns, separates them by two spaces and leaves no trailing spaces', () => {
    const text = formatTable(['NAME', 'RUNTIME', 'X'], [
      ['hello', 'node', '1'],
      ['a-much-longer-name', 'python', ''],
    ]);
    assert.equal(
      text,
      'NAME                RUNTIME  X\n' + 'hello               node     1\n' + 'a-much-longer-name  python\n',
    );
  });

  it('right-aligns columns when asked', () => {
    const text = formatTable(['N', 'COUNT'], [['a', '5'], ['b', '100']], { align: ['left', 'right'] });
    assert.equal(text, 'N  COUNT\na      5\nb    100\n');
  });

  it('measures cells without colour codes', () => {
    const c = colors(true);
    const text = formatTable(['A', 'B'], [[c.red('x'), 'y'], ['long', 'z']], { header: c.bold });
    const lines = text.split('\n');
    assert.equal(visibleLength(lines[1]!), 'x     y'.length);
    assert.ok(lines[0]!.includes('\u001b[1mA\u001b[22m'));
    assert.equal(lines[2], 'long  z');
  });

  it('handles a table with no rows', () => {
    assert.equal(formatTable(['A', 'BB'], []), 'A  BB\n');
  });
});

describe('colors', () => {
  it('are identity functions when disabled', () => {
    assert.equal(plain.red('x'), 'x');
    assert.equal(plain.bold('x'), 'x');
  });
  it('wrap in ANSI codes when enabled', () => {
    assert.equal(colors(true).red('x'), '\u001b[31mx\u001b[39m');
  });
});

describe('formatKeyValues', () => {
  it('aligns values and continues a key on empty keys', () => {
    assert.equal(
      formatKeyValues([
        ['name', 'hello'],
        ['idle timeout', '5m'],
        ['env', 'A=1'],
        ['', 'B=2'],
      ]),
      'name:          hello\nidle timeout:  5m\nenv:           A=1\n               B=2\n',
    );
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1 KB');
    assert.equal(formatBytes(1.2 * 1024 * 1024), '1.2 MB');
    assert.equal(formatBytes(300 * 1024 * 1024), '300 MB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5 GB');
  });
});

describe('formatAgo', () => {
  const now = Date.parse('2026-11-23T12:00:00.000Z');
  it('says how long ago', () => {
    assert.equal(formatAgo('2026-11-23T11:59:58.000Z', now), 'just now');
    assert.equal(formatAgo('2026-11-23T11:59:18.000Z', now), '42s ago');
    assert.equal(formatAgo('2026-11-23T11:57:00.000Z', now), '3m ago');
    assert.equal(formatAgo('2026-11-23T07:00:00.000Z', now), '5h ago');
    assert.equal(formatAgo('2026-11-21T12:00:00.000Z', now), '2d ago');
    assert.equal(formatAgo('2026-01-01T00:00:00.000Z', now), '2026-01-01');
  });
  it('copes with clock skew and missing times', () => {
    assert.equal(formatAgo('2026-11-23T12:00:30.000Z', now), 'just now');
    assert.equal(formatAgo(undefined, now), '-');
    assert.equal(formatAgo('garbage', now), '-');
  });
});

describe('formatClock', () => {
  it('prints local HH:MM:SS.mmm', () => {
    const d = new Date(2026, 10, 23, 9, 5, 7, 42);
    assert.equal(formatClock(d.toISOString()), '09:05:07.042');
  });
});

describe('formatJson', () => {
  it('is indented JSON with a final newline', () => {
    assert.equal(formatJson({ a: [1] }), '{\n  "a": [\n    1\n  ]\n}\n');
  });
});

const fn: FunctionInfo = {
  name: 'hello',
  runtime: 'node',
  handler: 'index.js',
  version: 2,
  package: 'f'.repeat(64),
  env: { ZED: 'last', GREETING: 'hi' },
  secrets: ['DB_PASSWORD'],
  timeout: 30,
  memory: 256,
  idleTimeout: 300,
  concurrency: 64,
  maxInstances: 10,
  minInstances: 0,
  network: 'outbound',
  maxProcesses: 128,
  maxOpenFiles: 1024,
  tmpSize: 64,
  auth: 'key',
  asyncConcurrency: 320,
  maxRetries: 2,
  retryDelay: 1,
  maxEventAge: 21_600,
  desired: 1,
  url: 'http://127.0.0.1:8080/fn/hello',
  instances: 1,
  readyInstances: 1,
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T11:57:00.000Z',
};

describe('command views', () => {
  const now = Date.parse('2026-11-23T12:00:00.000Z');
  it('ls table', () => {
    const text = formatFunctionTable([fn, { ...fn, name: 'resize', runtime: 'python', version: 12, timeout: 0.5, memory: 1024, instances: 0 }], plain, now);
    assert.equal(
      text,
      [
        'NAME    RUNTIME  VERSION  INSTANCES  TIMEOUT   MEMORY  UPDATED',
        'hello   node           2          1      30s   256 MB  3m ago',
        'resize  python        12          0    500ms  1024 MB  3m ago',
        '',
      ].join('\n'),
    );
  });

  it('get view shows every setting and env values sorted by key', () => {
    const text = formatFunctionDetails(fn, plain, now);
    assert.match(text, /^name: +hello$/m);
    assert.match(text, /^url: +http:\/\/127\.0\.0\.1:8080\/fn\/hello$/m);
    assert.match(text, /^idle timeout: +5m$/m);
    assert.match(text, /^max instances: +10$/m);
    assert.match(text, /^auth: +key$/m);
    assert.match(text, /^memory: +256 MB$/m);
    assert.match(text, /^env: +GREETING=hi\n +ZED=last$/m);
    assert.match(text, /^secrets: +DB_PASSWORD$/m);
    assert.match(text, /^updated: +2026-11-23T11:57:00\.000Z \(3m ago\)$/m);
    assert.match(text, /^package: +f{64}$/m);
    assert.match(text, /^async concurrency: +320$/m);
    assert.match(text, /^max retries: +2$/m);
    assert.match(text, /^retry delay: +1s$/m);
    assert.match(text, /^max event age: +6h$/m);
  });

  it('get view shows async destinations only when set', () => {
    assert.doesNotMatch(formatFunctionDetails(fn, plain, now), /^on (success|failure):/m);
    const text = formatFunctionDetails({ ...fn, onSuccess: 'notify', onFailure: 'alert' }, plain, now);
    assert.match(text, /^on success: +notify$/m);
    assert.match(text, /^on failure: +alert$/m);
  });

  it('get view says a function at async concurrency 0 is held', () => {
    assert.match(formatFunctionDetails({ ...fn, asyncConcurrency: 0 }, plain, now), /^async concurrency: +0 \(held: async invocations wait in the queue\)$/m);
  });

  it('get view with no env', () => {
    assert.match(formatFunctionDetails({ ...fn, env: {} }, plain, now), /^env: +\(none\)$/m);
    assert.match(formatFunctionDetails({ ...fn, secrets: [] }, plain, now), /^secrets: +\(none\)$/m);
  });

  it('log lines', () => {
    const time = new Date(2026, 10, 23, 10, 0, 0, 123).toISOString();
    assert.equal(
      formatLogLine({ time, function: 'hello', invocationId: 'inv_abcdef0123456789', stream: 'stdout', message: 'hi\n' }, plain),
      '10:00:00.123 abcdef01 [stdout] hi\n',
    );
    assert.equal(
      formatLogLine({ time, function: 'hello', invocationId: null, stream: 'stderr', message: 'boom' }, plain),
      '10:00:00.123 -        [stderr] boom\n',
    );
    assert.equal(shortInvocationId('abc'), 'abc');
  });

  it('log lines cannot act on the terminal, forge a stream tag or start another entry', () => {
    const time = new Date(2026, 10, 23, 10, 0, 0, 123).toISOString();
    const line = (message: string, stream: 'stdout' | 'stderr' = 'stdout') =>
      formatLogLine({ time, function: 'hello', invocationId: 'inv_abcdef0123456789', stream, message }, plain);
    assert.equal(line('\u001b[2J\u001b]0;title\u0007'), '10:00:00.123 abcdef01 [stdout] \\x1b[2J\\x1b]0;title\\a\n');
    assert.equal(line('x\r\u001b[Kfake'), '10:00:00.123 abcdef01 [stdout] x\\r\\x1b[Kfake\n');
    assert.equal(line('[stderr] not really'), '10:00:00.123 abcdef01 [stdout] [stderr] not really\n');
    assert.equal(line('one\n10:00:00.124 abcdef01 [stderr] two'), '10:00:00.123 abcdef01 [stdout] one\\n10:00:00.124 abcdef01 [stderr] two\n');
    assert.equal(line('c1 \u009b2J del \u007f nul \u0000 rlo \u202e ls \u2028 tab\tok'), '10:00:00.123 abcdef01 [stdout] c1 \\x9b2J del \\x7f nul \\0 rlo \\u202e ls \\u2028 tab\tok\n');
    // Colours are the CLI's own escapes, around the tag only.
    const colored = formatLogLine({ time, function: 'hello', invocationId: null, stream: 'stderr', message: '\u001b[31mred' }, colors(true));
    assert.ok(colored.endsWith(' \\x1b[31mred\n'), colored);
    assert.equal(shortInvocationId(undefined), '-');
  });
});
