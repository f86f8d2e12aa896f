/**
 * Function output on disk: lines outlive the writer (a restart reads them back in order), an
 * invocation's lines are found among others, rotation keeps the size bound, removal deletes the
 * files, a line torn by a crash is skipped while later lines still read, and output faster than
 * the disk is bounded in memory (dropped lines are counted in a line of their own).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { ManualClock, systemClock } from '../../src/core/clock.js';
import { LOG_SEGMENTS, LogFiles, type LogFilesOptions } from '../../src/telemetry/log-files.js';
import { LogBuffer, type LogEntry } from '../../src/telemetry/logs.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-logs-'));
  dirs.push(dir);
  return dir;
}

function files(dir: string, options: Partial<LogFilesOptions> = {}): { logs: LogFiles; errors: unknown[] } {
  const errors: unknown[] = [];
  const logs = new LogFiles({ dir, retentionBytes: 32 * 1024 * 1024, clock: systemClock, onError: (err) => errors.push(err), ...options });
  return { logs, errors };
}

function line(message: string, invocationId: string | null = null, time = 1_000): LogEntry {
  return { time, function: 'fn', invocationId, stream: 'stdout', message };
}

describe('log files', () => {
  test('lines outlive the writer and read back in order, with since and limit', async () => {
    const dir = await tempDir();
    const first = files(dir);
    for (let i = 0; i < 5; i++) first.logs.append(line(`line ${i}`, 'inv-a', 1_000 + i));
    first.logs.append({ ...line('oops', 'inv-a', 1_005), stream: 'stderr' });
    await first.logs.close();
    assert.deepEqual(first.errors, []);

    const again = files(dir).logs;
    const read = await again.read('fn');
    assert.deepEqual(
      read.map((e) => e.message),
      ['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'oops'],
    );
    assert.deepEqual(read[5], { time: 1_005, function: 'fn', invocationId: 'inv-a', stream: 'stderr', message: 'oops' });
    assert.deepEqual((await again.read('fn', { limit: 2 })).map((e) => e.message), ['line 4', 'oops']);
    assert.deepEqual((await again.read('fn', { since: 1_004 })).map((e) => e.message), ['line 4', 'oops']);
    assert.deepEqual(await again.read('other'), []);
    // Lines not yet written are read too, after the ones on disk.
    again.append(line('pending', null, 2_000));
    assert.deepEqual((await again.read('fn', { limit: 2 })).map((e) => e.message), ['oops', 'pending']);
    await again.close();
  });

  test('lines that arrived out of time order (stdout and stderr are pipes of their own) read oldest first, ties in arrival order', async () => {
    const dir = await tempDir();
    const first = files(dir);
    // The runtime stamped "two" (stderr) before "three" (stdout), but its pipe delivered it later.
    first.logs.append(line('one', 'inv-a', 1_509));
    first.logs.append(line('three', 'inv-a', 1_510));
    first.logs.append({ ...line('two', 'inv-a', 1_509), stream: 'stderr' });
    await first.logs.close();
    const again = files(dir).logs;
    assert.deepEqual((await again.read('fn')).map((e) => e.message), ['one', 'two', 'three']);
    again.append(line('pending, stamped early', null, 1_505));
    assert.deepEqual((await again.read('fn', { limit: 2 })).map((e) => e.message), ['two', 'three']);
    assert.deepEqual((await again.read('fn')).map((e) => e.message), ['pending, stamped early', 'one', 'two', 'three']);
    await again.close();
  });

  test('kept in memory (no files), lines read oldest first as well', async () => {
    const memory = new LogBuffer();
    memory.append(line('one', 'inv-a', 1_509));
    memory.append(line('three', 'inv-a', 1_510));
    memory.append({ ...line('two', 'inv-a', 1_509), stream: 'stderr' });
    assert.deepEqual((await memory.read('fn')).map((e) => e.message), ['one', 'two', 'three']);
    assert.deepEqual((await memory.read('fn', { limit: 1 })).map((e) => e.message), ['three']);
  });

  test("an invocation's lines, and only those, across segments", async () => {
    const dir = await tempDir();
    const { logs } = files(dir, { retentionBytes: 64 * 1024, flushBytes: 1 });
    for (let i = 0; i < 60; i++) logs.append(line(`m${i}`, `inv-${i % 3}`, i));
    // An id that is a prefix of another must not match it.
    logs.append(line('prefix', 'inv-1x', 60));
    await logs.close();
    const found = await files(dir).logs.read('fn', { invocationId: 'inv-1' });
    assert.deepEqual(
      found.map((e) => e.message),
      Array.from({ length: 20 }, (_, k) => `m${k * 3 + 1}`),
    );
  });

  test('rotation keeps each function within its retention, dropping the oldest lines', async () => {
    const dir = await tempDir();
    const retentionBytes = 4096;
    const { logs, errors } = files(dir, { retentionBytes, flushBytes: 1 });
    const message = 'x'.repeat(100);
    for (let i = 0; i < 400; i++) logs.append(line(`${i} ${message}`, null, i));
    await logs.close();
    assert.deepEqual(errors, []);
    const names = await readdir(join(dir, 'fn'));
    assert.ok(names.length <= LOG_SEGMENTS, `at most ${LOG_SEGMENTS} segments: ${names.join(', ')}`);
    assert.ok(names.includes('current.jsonl'));
    let total = 0;
    for (const name of names) total += (await stat(join(dir, 'fn', name))).size;
    assert.ok(total <= retentionBytes, `${total} bytes kept of at most ${retentionBytes}`);
    const kept = await files(dir).logs.read('fn');
    assert.equal(kept.at(-1)?.message, `399 ${message}`, 'the newest line is kept');
    assert.ok(kept.length < 400 && kept.length > 10, `${kept.length} lines kept`);
    // What is kept is the newest run of lines, in order.
    const numbers = kept.map((e) => Number(e.message.split(' ')[0]));
    assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, k) => 400 - numbers.length + k));
  });

  test("removal deletes a function's files, pending lines included", async () => {
    const dir = await tempDir();
    const { logs } = files(dir);
    logs.append(line('written'));
    await logs.close();
    logs.append(line('pending'));
    await logs.remove('fn');
    await assert.rejects(stat(join(dir, 'fn')), { code: 'ENOENT' });
    assert.deepEqual(await logs.read('fn'), []);
    // The function can come back and log again.
    logs.append(line('again'));
    assert.deepEqual((await logs.read('fn')).map((e) => e.message), ['again']);
    await logs.close();
  });

  test('a line torn by a crash is skipped, and lines written after it read', async () => {
    const dir = await tempDir();
    const first = files(dir).logs;
    first.append(line('whole'));
    first.append(line('torn by the crash'));
    await first.close();
    const file = join(dir, 'fn', 'current.jsonl');
    await truncate(file, (await stat(file)).size - 10);
    assert.ok(!(await readFile(file, 'utf8')).endsWith('\n'));

    const restarted = files(dir);
    assert.deepEqual((await restarted.logs.read('fn')).map((e) => e.message), ['whole']);
    restarted.logs.append(line('after the restart'));
    await restarted.logs.close();
    assert.deepEqual(restarted.errors, []);
    assert.deepEqual((await files(dir).logs.read('fn')).map((e) => e.message), ['whole', 'after the restart']);
  });

  test('lines waiting for the disk are bounded: the rest are dropped and counted', async () => {
    const dir = await tempDir();
    // A clock that never fires and no size trigger: nothing is written until close.
    const { logs } = files(dir, { clock: new ManualClock(0), flushBytes: Number.MAX_SAFE_INTEGER, maxPendingBytes: 1000 });
    for (let i = 0; i < 30; i++) logs.append(line(`line ${String(i).padStart(12, '0')}`, null, i));
    const waiting = await logs.read('fn');
    assert.equal(waiting.length, 10, 'ten lines of 100 counted bytes fit in 1000');
    await logs.close();
    const kept = await files(dir).logs.read('fn');
    assert.deepEqual(kept.slice(0, 10), waiting);
    assert.equal(kept.length, 11);
    assert.deepEqual({ ...kept[10], time: undefined }, {
      time: undefined,
      function: 'fn',
      invocationId: null,
      stream: 'stderr',
      message: '[nimbus] 20 lines dropped: the function wrote faster than its log could be saved',
    });
    // Once written, there is room again.
    logs.append(line('room again', null, 100));
    assert.equal((await logs.read('fn')).at(-1)?.message, 'room again');
    await logs.close();
  });
});
