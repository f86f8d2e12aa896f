import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { UidRange } from './uid-pool.js';

/** The subordinate ids instances of a platform that is not root take theirs from, and the programs to map them. */
export interface SubordinateIds {
  /** Host uids (from /etc/subuid) and gids (from /etc/subgid), as many of each. */
  uids: UidRange;
  gids: UidRange;
  /** The platform's own uid and gid (mapped to 0 in the namespace). */
  owner: { uid: number; gid: number };
  /** The login name, for messages. */
  user: string;
  tools: { unshare: string; newuidmap: string; newgidmap: string; cat: string; perl: string; rm: string };
}

/** The longest the namespace may take to be made. */
const OPEN_TIMEOUT_MS = 10_000;

/**
 * Makes the user namespace instances of this platform start from: the platform's user is root of
 * it (uid and gid 0) and the subordinate ids are 1..count (`newuidmap`, `newgidmap`: setuid
 * programs that write the maps /etc/subuid and /etc/subgid allow). Answers a descriptor of it,
 * which keeps it alive: the process that made it is gone when this resolves. Close it when done.
 *
 * It is made once per platform (a few milliseconds); each instance enters it through subuid-exec.ts.
 */
export async function openUserNamespace(ids: SubordinateIds): Promise<number> {
  const { tools, uids, gids, owner } = ids;
  // `unshare --user cat`: cat runs in a new user namespace as soon as it echoes a line back.
  const holder = spawn(tools.unshare, ['--user', '--', tools.cat], { env: { PATH: '/usr/bin:/bin', LANG: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  holder.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  holder.stdin.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => {
    holder.once('exit', () => resolve());
    holder.once('error', (err) => {
      stderr ||= err.message;
      resolve();
    });
  });
  try {
    holder.stdin.write('ready\n');
    await echoed(holder.stdout, exited, () => stderr);
    const pid = holder.pid!;
    await Promise.all([
      mapIds(tools.newuidmap, pid, owner.uid, uids),
      mapIds(tools.newgidmap, pid, owner.gid, gids),
    ]);
    const fd = openSync(`/proc/${pid}/ns/user`, 'r');
    // The descriptor names the namespace of that pid: make sure it is still ours, mapped as asked.
    const expected = (own: number, range: UidRange) => `0 ${own} 1\n1 ${range.first} ${range.count}`;
    const actual = (file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8').trim().split('\n').map((line) => line.trim().split(/\s+/).join(' ')).sort().join('\n');
    if (actual('uid_map') !== expected(owner.uid, uids) || actual('gid_map') !== expected(owner.gid, gids)) {
      closeSync(fd);
      throw new Error('the namespace does not have the maps it was given');
    }
    return fd;
  } finally {
    holder.stdin.end();
    holder.kill('SIGKILL');
    await exited;
  }
}

/** Resolves once a line comes back from the holder: cat runs, so it is in its namespace. */
function echoed(stdout: NodeJS.ReadableStream, exited: Promise<void>, stderr: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('unshare did not start in time')), OPEN_TIMEOUT_MS);
    let text = '';
    stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`unshare could not make a user namespace: ${stderr().trim().slice(0, 300) || 'no output'}`));
    });
  }).finally(() => stdout.removeAllListeners('data'));
}

/** Runs newuidmap or newgidmap: `own` id as 0, `range` as 1..count. */
function mapIds(program: string, pid: number, own: number, range: UidRange): Promise<void> {
  const child = spawn(program, [String(pid), '0', String(own), '1', '1', String(range.first), String(range.count)], { env: { PATH: '/usr/bin:/bin', LANG: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`${program}: ${err.message}`)));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(stderr.trim().slice(0, 300) || `${program} exited with code ${code}`))));
  });
}
