/**
 * A start-up that fails part-way releases everything it had started: warm runtime processes,
 * cgroups, the store, and it exits (for `nimbus up`) instead of holding them.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../src/server.js';

/** Process ids whose parent is this process. */
function children(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command may hold spaces and parentheses: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Files of `dir` this process holds open. */
function openFilesUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });
}

/** The cgroup directories this process's platform would create (v1 controllers and v2). */
function ownCgroupDirs(): string[] {
  const dirs = [join('/sys/fs/cgroup', `nimbus-${process.pid}`), join('/sys/fs/cgroup/unified', `nimbus-${process.pid}`)];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const match = /^\d+:([^:]+):(.*)$/.exec(line);
    if (match && (match[1] === 'memory' || match[1] === 'pids')) dirs.push(join('/sys/fs/cgroup', match[1], match[2]!, `nimbus-${process.pid}`));
  }
  return dirs.filter((dir) => existsSync(dir));
}

/** Run directories (`$TMPDIR/nimbus-*`) whose pid file names this process. */
function ownRunDirs(): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith('nimbus-'))
    .filter((name) => {
      try {
        return readFileSync(join(tmpdir(), name, 'platform.pid'), 'utf8').trim() === String(process.pid);
      } catch {
        return false;
      }
    });
}

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

test('a busy port: startServer rejects and leaves no process, cgroup or open database behind', async () => {
  const { server, port } = await listen();
  const dataDir = await mkdtemp(join(tmpdir(), 'nimbus-test-'));
  const before = children();
  try {
    const started = Date.now();
    await assert.rejects(
      startServer({ port, dataDir, warmPoolSize: 2, logger: pino({ level: 'silent' }) }),
      (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
    );
    assert.ok(Date.now() - started < 5000, `failed after ${Date.now() - started} ms`);
    assert.deepEqual(children().filter((pid) => !before.includes(pid)), [], 'no runtime process left running');
    assert.deepEqual(openFilesUnder(dataDir), [], 'the store is closed');
    assert.deepEqual(ownCgroupDirs(), [], 'no cgroup left');
    assert.deepEqual(ownRunDirs(), [], 'no run directory left');
  } finally {
    server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
