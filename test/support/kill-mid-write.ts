import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/**
 * Runs a fixture script that writes and prints `<prefix> <id>,<id>,...` for each write it was
 * told is stored, SIGKILLs it once `enough` ids were printed (or after 10 s, whatever happened:
 * bounded), reads the lines already in the pipe, and answers every id the child reported.
 * Asserts that the child was killed mid-way and reported something.
 */
export async function idsReportedBeforeSigkill(script: string, dir: string, prefix: string, enough = 3_000): Promise<string[]> {
  const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ids: string[] = [];
  let partial = '';
  const collect = (lines: string[]) => {
    for (const line of lines) if (line.startsWith(`${prefix} `)) ids.push(...line.slice(prefix.length + 1).split(','));
  };
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const ended = new Promise<void>((resolve) => child.stdout.on('end', resolve));
  await new Promise<void>((resolve) => {
    const guard = setTimeout(() => resolve(), 10_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      collect(lines);
      if (ids.length >= enough) {
        clearTimeout(guard);
        resolve();
      }
    });
    child.on('exit', () => {
      clearTimeout(guard);
      resolve();
    });
  });
  child.kill('SIGKILL');
  // Lines already in the pipe were reported too: read them to the end.
  await ended;
  collect(partial.split('\n'));
  assert.equal(await exited, 'SIGKILL', 'killed mid-way, not finished');
  assert.ok(ids.length > 0, 'the child reported something before it was killed');
  return ids;
}
