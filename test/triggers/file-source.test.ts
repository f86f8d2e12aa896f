/**
 * The file trigger source against the real file system and watcher (chokidar), with a ManualClock
 * for its debounce and retries: tests wait for what the watcher reported, then step the clock.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { ManualClock } from '../../src/core/clock.js';
import { createFileSource, FILE_INDEX_KEY, fileSettingsSchema, fileSource, type StoredFileIndex } from '../../src/triggers/sources/file.js';
import type { FileEventData } from '../../src/triggers/sources/file-event.js';
import type { TriggerEvent, TriggerSource } from '../../src/triggers/types.js';
import { MemoryState, RecordingSink, RecordingStatus } from './recording-sink.js';

const HOST = 'test-host';
const DEBOUNCE = 200;
const scratch = mkdtempSync(path.join(tmpdir(), 'nimbus-file-trigger-'));
const running = new Set<TriggerSource>();
after(async () => {
  for (const source of running) await source.stop();
  rmSync(scratch, { recursive: true, force: true });
});

let dirs = 0;
function freshDir(create = true): string {
  const dir = path.join(scratch, `d${++dirs}`);
  if (create) mkdirSync(dir);
  return dir;
}

/** A running file source with its test doubles; `saw` resolves when the watcher reports a change of `name`. */
async function startSource(settings: Record<string, unknown>, shared: { state?: MemoryState; sink?: RecordingSink } = {}) {
  const clock = new ManualClock(1_000_000);
  const sink = shared.sink ?? new RecordingSink();
  const status = new RecordingStatus();
  const state = shared.state ?? new MemoryState();
  const watchers: Array<{ event: string; name: string; resolve: () => void }> = [];
  const source = createFileSource(
    { trigger: 'files', function: 'fn', settings: fileSettingsSchema.parse(settings), sink, status, state, clock, logger: pino({ level: 'silent' }), secrets: {} },
    {
      host: HOST,
      debounceMs: DEBOUNCE,
      onWatcherEvent: (event, name) => {
        for (const w of watchers.filter((w) => w.event === event && w.name === name)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve();
        }
      },
    },
  );
  const saw = (event: 'add' | 'change' | 'unlink', name: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the watcher did not report ${event} ${name}`)), 10_000);
      watchers.push({ event, name, resolve: () => (clearTimeout(timer), resolve()) });
    });
  running.add(source);
  await source.start();
  const stop = async () => {
    await source.stop();
    running.delete(source);
  };
  return { source, clock, sink, status, state, saw, stop };
}

/** Resolves once `check` is true; the source saves its index just after a delivery resolved. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await check()); waited += 10) {
    if (waited > 5000) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const dataOf = (event: TriggerEvent) => JSON.parse(event.data.toString('utf8')) as FileEventData;

describe('file trigger source', () => {
  test('settings: defaults, and bad input refused', () => {
    assert.deepEqual(fileSettingsSchema.parse({ path: '/srv/in' }), { path: '/srv/in', events: ['created', 'modified', 'deleted'] });
    assert.equal(fileSettingsSchema.safeParse({ path: 'relative/dir' }).success, false);
    assert.equal(fileSettingsSchema.safeParse({ path: '/srv', pattern: '../*.csv' }).success, false);
    assert.equal(fileSettingsSchema.safeParse({ path: '/srv', pattern: '/abs/*.csv' }).success, false);
    assert.equal(fileSettingsSchema.safeParse({ path: '/srv', events: ['renamed'] }).success, false);
    assert.equal(fileSettingsSchema.safeParse({ path: '/srv', events: [] }).success, false);
    assert.equal(fileSettingsSchema.safeParse({ path: '/srv', extra: 1 }).success, false);
    assert.equal(fileSource.type, 'file');
    assert.deepEqual(fileSource.secretNames(fileSettingsSchema.parse({ path: '/srv' })), []);
  });

  test('created, modified and deleted events carry exact CloudEvents attributes and metadata', async () => {
    const dir = freshDir();
    const { clock, sink, status, state, saw, stop } = await startSource({ path: dir });
    assert.equal(status.last?.state, 'active');

    const created = saw('add', 'a.csv');
    writeFileSync(path.join(dir, 'a.csv'), 'x,y\n');
    await created;
    clock.advance(DEBOUNCE);
    const [first] = await sink.waitFor(1);
    const stats1 = statSync(path.join(dir, 'a.csv'));
    assert.equal(first!.type, 'dev.nimbus.file.created');
    assert.equal(first!.source, `file://${HOST}${dir}`);
    assert.equal(first!.subject, 'a.csv');
    assert.equal(first!.contentType, 'application/json');
    assert.equal(first!.time, Math.floor(stats1.mtimeMs));
    assert.deepEqual(first!.extensions, { filesize: '4', filemtime: new Date(stats1.mtimeMs).toISOString() });
    assert.deepEqual(dataOf(first!), { kind: 'created', path: path.join(dir, 'a.csv'), name: 'a.csv', size: 4, mtime: new Date(stats1.mtimeMs).toISOString() });
    assert.match(first!.id, /^[0-9a-f]{32}$/);

    await sleep(60); // past chokidar's own 50 ms throttle of change events
    const changed = saw('change', 'a.csv');
    appendFileSync(path.join(dir, 'a.csv'), '1,2\n');
    await changed;
    clock.advance(DEBOUNCE);
    const [, second] = await sink.waitFor(2);
    assert.equal(second!.type, 'dev.nimbus.file.modified');
    assert.equal(second!.subject, 'a.csv');
    assert.equal(dataOf(second!).size, 8);
    assert.notEqual(second!.id, first!.id);

    const removed = saw('unlink', 'a.csv');
    unlinkSync(path.join(dir, 'a.csv'));
    await removed;
    clock.advance(DEBOUNCE);
    const [, , third] = await sink.waitFor(3);
    assert.equal(third!.type, 'dev.nimbus.file.deleted');
    assert.equal(third!.time, clock.now());
    assert.equal(dataOf(third!).size, 8, 'a deletion carries the last size seen');
    await until(async () => Object.keys((await state.get<StoredFileIndex>(FILE_INDEX_KEY))?.files ?? { x: 1 }).length === 0, 'the index to forget a.csv');
    await stop();
  });

  test('nothing is delivered before the quiet time has passed', async () => {
    const dir = freshDir();
    const { clock, sink, saw, stop } = await startSource({ path: dir });
    const created = saw('add', 'b.txt');
    writeFileSync(path.join(dir, 'b.txt'), 'b');
    await created;
    clock.advance(DEBOUNCE - 1);
    await sleep(50);
    assert.equal(sink.calls, 0);
    clock.advance(1);
    await sink.waitFor(1);
    await stop();
  });

  test('a burst of 20 writes to one file is one modified event', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'log.txt'), '');
    const { clock, sink, saw, stop } = await startSource({ path: dir }); // log.txt is in the baseline
    for (let i = 0; i < 20; i++) {
      await sleep(60); // past chokidar's 50 ms throttle, so every write is reported
      const changed = saw('change', 'log.txt');
      appendFileSync(path.join(dir, 'log.txt'), `line ${i}\n`);
      await changed;
      clock.advance(DEBOUNCE / 2); // each change restarts the quiet time
    }
    await sleep(50);
    assert.equal(sink.calls, 0, 'no event during the burst');
    clock.advance(DEBOUNCE);
    await sink.waitFor(1);
    await sleep(50);
    assert.equal(sink.events.length, 1);
    assert.equal(sink.events[0]!.type, 'dev.nimbus.file.modified');
    assert.equal(dataOf(sink.events[0]!).size, statSync(path.join(dir, 'log.txt')).size);
    await stop();
  });

  test('the pattern and the events filter choose what is delivered', async () => {
    const dir = freshDir();
    mkdirSync(path.join(dir, 'sub'));
    const { clock, sink, saw, stop } = await startSource({ path: dir, pattern: '**/*.json', events: ['created', 'deleted'] });
    const seen = [saw('add', 'skip.txt'), saw('add', 'top.json'), saw('add', 'sub/deep.json')];
    writeFileSync(path.join(dir, 'skip.txt'), 'no');
    writeFileSync(path.join(dir, 'top.json'), '{}');
    writeFileSync(path.join(dir, 'sub/deep.json'), '{}');
    await Promise.all(seen);
    clock.advance(DEBOUNCE);
    await sink.waitFor(2);
    assert.deepEqual(sink.events.map((e) => e.subject).sort(), ['sub/deep.json', 'top.json']);

    // modified is filtered out, deleted is not
    await sleep(60);
    const changed = saw('change', 'top.json');
    writeFileSync(path.join(dir, 'top.json'), '{"a":1}');
    await changed;
    clock.advance(DEBOUNCE);
    await sleep(50);
    const removed = saw('unlink', 'top.json');
    unlinkSync(path.join(dir, 'top.json'));
    await removed;
    clock.advance(DEBOUNCE);
    await sink.waitFor(3);
    assert.deepEqual(sink.events.map((e) => e.type), ['dev.nimbus.file.created', 'dev.nimbus.file.created', 'dev.nimbus.file.deleted']);
    assert.equal(dataOf(sink.events[2]!).size, 7, 'the index followed the filtered modification');
    await stop();
  });

  test('a pattern without ** matches only files directly in the directory', async () => {
    const dir = freshDir();
    mkdirSync(path.join(dir, 'sub'));
    const { clock, sink, saw, stop } = await startSource({ path: dir, pattern: '*.csv' });
    const seen = [saw('add', 'sub/nested.csv'), saw('add', 'top.csv')];
    writeFileSync(path.join(dir, 'sub/nested.csv'), '1');
    writeFileSync(path.join(dir, 'top.csv'), '1');
    await Promise.all(seen);
    clock.advance(DEBOUNCE);
    await sink.waitFor(1);
    await sleep(50);
    assert.deepEqual(sink.events.map((e) => e.subject), ['top.csv']);
    await stop();
  });

  test('changes made while the source was stopped are delivered at the next start', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'keep.txt'), 'same');
    writeFileSync(path.join(dir, 'edit.txt'), 'old');
    writeFileSync(path.join(dir, 'gone.txt'), 'bye');
    const state = new MemoryState();
    const firstRun = await startSource({ path: dir }, { state });
    assert.equal(firstRun.sink.calls, 0, 'files there at the first start are the baseline');
    assert.deepEqual(Object.keys((await state.get<StoredFileIndex>(FILE_INDEX_KEY))!.files).sort(), ['edit.txt', 'gone.txt', 'keep.txt']);
    await firstRun.stop();

    writeFileSync(path.join(dir, 'edit.txt'), 'newer');
    unlinkSync(path.join(dir, 'gone.txt'));
    writeFileSync(path.join(dir, 'new.txt'), 'hi');

    const secondRun = await startSource({ path: dir }, { state });
    await secondRun.sink.waitFor(3);
    await sleep(50);
    const got = secondRun.sink.events.map((e) => `${e.type} ${e.subject}`).sort();
    assert.deepEqual(got, ['dev.nimbus.file.created new.txt', 'dev.nimbus.file.deleted gone.txt', 'dev.nimbus.file.modified edit.txt']);
    await secondRun.stop();
  });

  test('a refused delivery is delivered again with the same id, and the index waits for it', async () => {
    const dir = freshDir();
    const sink = new RecordingSink();
    const state = new MemoryState();
    const { clock, saw, stop } = await startSource({ path: dir }, { sink, state });
    sink.refuse(1);
    const created = saw('add', 'r.txt');
    writeFileSync(path.join(dir, 'r.txt'), 'r');
    await created;
    clock.advance(DEBOUNCE);
    await until(async () => sink.calls === 1, 'the refused delivery');
    assert.equal(sink.events.length, 0);
    assert.deepEqual((await state.get<StoredFileIndex>(FILE_INDEX_KEY))?.files, {}, 'the index did not move');
    clock.advance(1000); // the first retry
    const [event] = await sink.waitFor(1);
    assert.equal(event!.type, 'dev.nimbus.file.created');
    assert.equal(sink.calls, 2);
    await until(async () => (await state.get<StoredFileIndex>(FILE_INDEX_KEY))?.files['r.txt'] !== undefined, 'the index to take r.txt');
    await stop();
  });

  test('a delivery refused before a stop is delivered at the next start with the same id', async () => {
    const dir = freshDir();
    const state = new MemoryState();
    const refused = new RecordingSink();
    refused.refuse(1);
    const firstRun = await startSource({ path: dir }, { state, sink: refused });
    const created = firstRun.saw('add', 'crash.txt');
    writeFileSync(path.join(dir, 'crash.txt'), 'c');
    await created;
    firstRun.clock.advance(DEBOUNCE);
    await until(async () => refused.calls === 1, 'the refused delivery');
    await firstRun.stop();

    const secondRun = await startSource({ path: dir }, { state });
    const [event] = await secondRun.sink.waitFor(1);
    assert.equal(event!.subject, 'crash.txt');
    assert.equal(event!.type, 'dev.nimbus.file.created');
    await secondRun.stop();
  });

  test('a trigger updated to another pattern starts from a new baseline', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'a.csv'), '1');
    writeFileSync(path.join(dir, 'b.json'), '{}');
    const state = new MemoryState();
    const csv = await startSource({ path: dir, pattern: '*.csv' }, { state });
    await csv.stop();
    const json = await startSource({ path: dir, pattern: '*.json' }, { state });
    await sleep(50);
    assert.equal(json.sink.calls, 0, 'b.json is no change, a.csv no deletion');
    assert.deepEqual(await state.get(FILE_INDEX_KEY), { root: dir, pattern: '*.json', files: { 'b.json': { size: 2, mtimeMs: statSync(path.join(dir, 'b.json')).mtimeMs } } });
    await json.stop();
  });

  test('a watched directory that is removed is failing, and active again once it is back', async () => {
    const dir = freshDir();
    const { clock, sink, status, stop } = await startSource({ path: dir });
    assert.equal(status.last?.state, 'active');
    rmSync(dir, { recursive: true });
    await status.waitFor('failing');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'back.txt'), 'b');
    // Step the clock until the retry (after the watcher was closed) has found the directory.
    await until(async () => (clock.advance(1000), status.last?.state === 'active'), 'active again');
    const [event] = await sink.waitFor(1);
    assert.equal(event!.subject, 'back.txt');
    await stop();
  });

  test('a missing directory is failing, and active once it exists', async () => {
    const dir = freshDir(false);
    const { clock, sink, status, stop } = await startSource({ path: dir });
    assert.equal(status.last?.state, 'failing');
    assert.match(status.last?.reason ?? '', /does not exist/);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'early.txt'), 'e');
    clock.advance(1000);
    await status.waitFor('active');
    const [event] = await sink.waitFor(1);
    assert.equal(event!.subject, 'early.txt');
    await stop();
  });

  test('a source stopped while its directory is missing looks for it no more', async () => {
    const dir = freshDir(false);
    const { clock, status, stop } = await startSource({ path: dir });
    assert.equal(status.last?.state, 'failing');
    await stop();
    mkdirSync(dir);
    clock.advance(60_000);
    await sleep(50);
    assert.deepEqual(status.reports.map((r) => r.state), ['failing']);
  });

  test('stop waits for a delivery held by back-pressure and closes the watcher', async () => {
    const dir = freshDir();
    const sink = new RecordingSink();
    sink.full();
    const { stop, clock, saw } = await startSource({ path: dir }, { sink });
    const created = saw('add', 'held.txt');
    writeFileSync(path.join(dir, 'held.txt'), 'h');
    await created;
    clock.advance(DEBOUNCE);
    await sleep(50);
    assert.equal(sink.calls, 0, 'nothing is delivered while the sink has no room');
    await stop(); // returns although whenRoom never resolved
    writeFileSync(path.join(dir, 'after.txt'), 'a');
    sink.makeRoom();
    clock.advance(DEBOUNCE * 10);
    await sleep(100);
    assert.equal(sink.calls, 0, 'a stopped source delivers nothing');
  });
});
