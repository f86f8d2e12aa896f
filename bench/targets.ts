/**
 * The reference targets (a) and (b): a bare node:http server and a minimal reverse proxy in front
 * of it, each in its own process. They need nothing from Nimbus, so they always run, even when
 * the platform does not build or start.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startChild, stopChild, waitForLine, type Child } from './child.js';

/** A server under test: its URL and its process. */
export interface Target {
  readonly url: string;
  readonly child: Child;
}

/** How long a reference server may take to listen. */
const READY_TIMEOUT_MS = 10_000;

/** Path of a compiled sibling script (bench/*.ts compiles to dist/bench/*.js next to this file). */
function sibling(file: string): string {
  return fileURLToPath(new URL(file, import.meta.url));
}

async function startScript(name: string, script: string, args: string[]): Promise<Target> {
  const child = startChild(name, process.execPath, [sibling(script), ...args]);
  try {
    const match = await waitForLine(child, /^ready (\{.*\})$/, READY_TIMEOUT_MS);
    const { port } = JSON.parse(match[1] ?? '{}') as { port: number };
    return { url: `http://127.0.0.1:${port}/`, child };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** Start target (a): the bare server, on a free port on 127.0.0.1 and on `socketPath`. */
export function startBare(socketPath: string): Promise<Target> {
  return startScript('bare node server', 'bare-server.js', [socketPath]);
}

/** Start target (b): the minimal proxy, forwarding to the bare server's unix socket. */
export function startProxy(upstreamSocketPath: string): Promise<Target> {
  return startScript('minimal proxy', 'minimal-proxy.js', [upstreamSocketPath]);
}

/**
 * The cold-start reference: spawn a fresh bare server process (clean environment) and time it
 * from the spawn to the first byte of its first response. This is what starting any node-based
 * instance from nothing costs on this machine, before any platform work; Nimbus's cold start is
 * compared with it. Returns one duration in milliseconds per run.
 */
export async function measureSpawnFloor(socketDir: string, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const target = await startBare(`${socketDir}/spawn-${i}.sock`);
    try {
      const res = await fetch(target.url, { signal: AbortSignal.timeout(10_000) });
      samples.push(performance.now() - started);
      await res.text();
    } finally {
      await stopChild(target.child);
    }
  }
  return samples;
}
