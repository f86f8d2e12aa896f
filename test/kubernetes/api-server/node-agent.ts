/**
 * The test cluster's one node: a kubelet stand-in. It runs each pod bound to it as a local process
 * listening on an address of its own (a loopback address per pod, as a pod has its own network
 * namespace), and reports through the store, so watches see it: Pending, Running with its pod IP,
 * Ready from the container's readiness probe, and when the process ends Succeeded or Failed with
 * the container's exit code and reason (OOMKilled when it passed its memory limit). Deleting a pod
 * sends SIGTERM, then SIGKILL after the pod's grace period, then removes the object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PodStore } from './store.js';
import type { ContainerStatus, Pod } from './types.js';

/** How the node runs a container's image here: a local command line. */
export type ImageRunner = (container: Pod['spec']['containers'][number]) => { command: string; args: string[] } | undefined;

export interface NodeAgentOptions {
  store: PodStore;
  namespace: string;
  runImage: ImageRunner;
  nodeName?: string;
  /** How often the memory use of each container is compared with its limit. @default 50 */
  memoryCheckMs?: number;
}

interface Running {
  pod: Pod;
  child: ChildProcess;
  ip: string;
  tmp: string;
  exited: Promise<void>;
  oomKilled: boolean;
  probeTimer?: NodeJS.Timeout;
  memoryTimer?: NodeJS.Timeout;
  stopping?: boolean;
  lines: string[];
  followers: Set<LogFollower>;
}

/** Someone reading a container's log as it is written (`kubectl logs -f`). */
interface LogFollower {
  line(text: string): void;
  end(): void;
}

const BINARY_SUFFIX: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL_SUFFIX: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Bytes of a memory quantity ("128Mi", "1G", "1000000"). */
export function memoryBytes(quantity: string): number {
  const match = quantity.match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/);
  if (!match) return Infinity;
  const unit = match[2] ? (BINARY_SUFFIX[match[2]] ?? DECIMAL_SUFFIX[match[2]]!) : 1;
  return Number(match[1]) * unit;
}

const now = (): string => new Date().toISOString();

export class NodeAgent {
  readonly nodeName: string;
  private readonly running = new Map<string, Running>();
  private readonly stopWatching: () => void;
  /** Pod addresses: 127.<base>.x.y, a block of its own per agent. */
  private readonly ipBase = 100 + Math.floor(Math.random() * 100);
  private nextIp = 2;
  private closed = false;

  constructor(private readonly options: NodeAgentOptions) {
    this.nodeName = options.nodeName ?? 'nimbus-test-node';
    this.stopWatching = options.store.onChange((change) => {
      if (change.object.metadata.namespace !== options.namespace || this.closed) return;
      const name = change.object.metadata.name!;
      if (change.type === 'ADDED') queueMicrotask(() => this.admit(name));
      else if (change.type === 'DELETED') this.running.get(name)?.child.kill('SIGKILL');
      else if (change.object.metadata.deletionTimestamp) this.terminate(name, change.object.metadata.deletionGracePeriodSeconds ?? 30);
    });
  }

  /** Output lines of a pod's container (what `kubectl logs` shows). */
  logs(name: string): string[] {
    return this.running.get(name)?.lines ?? [];
  }

  /**
   * Follows a running container's log: the lines so far, then each new one, then `end` when the
   * container ends. Answers the function that stops following, or undefined when it does not run.
   */
  follow(name: string, line: (text: string) => void, end: () => void): (() => void) | undefined {
    const run = this.running.get(name);
    if (!run) return undefined;
    for (const text of run.lines) line(text);
    const follower = { line, end };
    run.followers.add(follower);
    return () => run.followers.delete(follower);
  }

  /** The OS process id of a pod's container, while it runs. */
  pid(name: string): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  /** Stops every container at once and forgets the pods' processes (the node goes away). */
  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching();
    const all = [...this.running.values()];
    for (const run of all) run.child.kill('SIGKILL');
    await Promise.all(all.map((run) => run.exited));
  }

  private update(name: string, change: (pod: Pod) => void): void {
    try {
      this.options.store.update(this.options.namespace, name, (pod) => (change(pod), pod), { status: true });
    } catch {
      // The pod was removed meanwhile.
    }
  }

  /** Schedules the pod here and starts its container. */
  private admit(name: string): void {
    const { store, namespace } = this.options;
    let pod: Pod;
    try {
      pod = store.bind(namespace, name, this.nodeName);
    } catch {
      return;
    }
    const container = pod.spec.containers[0]!;
    const started = now();
    const runner = this.options.runImage(container);
    if (!runner || pod.spec.restartPolicy !== 'Never') {
      const message = runner ? 'this test node runs pods with restartPolicy Never only' : `image ${container.image} cannot be pulled`;
      this.update(name, (p) => {
        p.status = { phase: runner ? 'Failed' : 'Pending', reason: runner ? 'UnsupportedByTestNode' : 'ErrImagePull', message, ...(p.status ?? {}) };
        p.status.containerStatuses = [{ name: container.name, image: container.image, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: runner ? 'UnsupportedByTestNode' : 'ErrImagePull' } } }];
      });
      return;
    }
    const n = this.nextIp++;
    const ip = `127.${this.ipBase}.${n >> 8}.${n & 255}`;
    const tmp = mkdtempSync(join(tmpdir(), `pod-${name}-`));
    const env: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmp, TMPDIR: tmp, HOSTNAME: name, NIMBUS_LISTEN_HOST: ip };
    for (const variable of container.env ?? []) env[variable.name] = variable.value ?? '';
    const child = spawn(runner.command, [...runner.args, ...(container.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Running = { pod, child, ip, tmp, oomKilled: false, lines: [], followers: new Set(), exited: new Promise((resolve) => child.once('close', () => resolve())) };
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      let partial = '';
      stream.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        run.lines.push(...lines);
        for (const follower of run.followers) for (const text of lines) follower.line(text);
      });
    }
    this.running.set(name, run);
    const status = (state: ContainerStatus['state'], ready: boolean): ContainerStatus => ({ name: container.name, image: container.image, imageID: `local://${container.image}`, containerID: `local://${name}`, ready, started: !state.terminated, restartCount: 0, state });
    this.update(name, (p) => {
      p.status = {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: '127.0.0.1',
        startTime: started,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: started },
          { type: 'Initialized', status: 'True', lastTransitionTime: started },
          { type: 'ContainersReady', status: 'False', lastTransitionTime: started },
          { type: 'Ready', status: 'False', lastTransitionTime: started },
        ],
        containerStatuses: [status({ running: { startedAt: started } }, false)],
      };
    });
    this.watchMemory(run, container.resources?.limits?.memory);
    this.probe(run, container, (ready) =>
      this.update(name, (p) => {
        const at = now();
        p.status!.conditions = p.status!.conditions!.map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: ready ? 'True' : 'False', lastTransitionTime: at } : c));
        p.status!.containerStatuses = [status({ running: { startedAt: started } }, ready)];
      }),
    );
    void run.exited.then(() => {
      for (const follower of run.followers) follower.end();
      clearInterval(run.probeTimer);
      clearInterval(run.memoryTimer);
      rmSync(tmp, { recursive: true, force: true });
      const code = child.exitCode ?? 128 + (child.signalCode === 'SIGKILL' ? 9 : child.signalCode === 'SIGTERM' ? 15 : 6);
      const reason = run.oomKilled ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error';
      const finished = now();
      this.update(name, (p) => {
        p.status!.phase = code === 0 ? 'Succeeded' : 'Failed';
        p.status!.conditions = p.status!.conditions?.map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', lastTransitionTime: finished } : c));
        p.status!.containerStatuses = [status({ terminated: { exitCode: code, reason, startedAt: started, finishedAt: finished } }, false)];
      });
      this.running.delete(name);
      // A pod being deleted is removed once its container has ended (the kubelet's confirmation).
      if (run.stopping) {
        try {
          this.options.store.remove(this.options.namespace, name);
        } catch {
          // already removed (a forced delete)
        }
      }
    });
  }

  /** The readiness probe (httpGet), first at once, then every periodSeconds (default 10, as the kubelet). */
  private probe(run: Running, container: Pod['spec']['containers'][number], report: (ready: boolean) => void): void {
    const probe = container.readinessProbe?.httpGet;
    if (!probe) return report(true);
    const port = typeof probe.port === 'number' ? probe.port : container.ports?.find((p) => p.name === probe.port)?.containerPort;
    let ready = false;
    const check = async (): Promise<void> => {
      const ok = await fetch(`http://${run.ip}:${port}${probe.path ?? '/'}`, { signal: AbortSignal.timeout(1000) }).then(
        (res) => (void res.body?.cancel(), res.status >= 200 && res.status < 400),
        () => false,
      );
      if (ok !== ready && !run.stopping && this.running.get(run.pod.metadata.name!) === run) report((ready = ok));
    };
    run.probeTimer = setInterval(() => void check(), (container.readinessProbe?.periodSeconds ?? 10) * 1000);
    void check();
  }

  /** The container's memory cgroup, as a watchdog: over its limit, the process is killed (OOMKilled). */
  private watchMemory(run: Running, limit: string | undefined): void {
    if (!limit || !run.child.pid) return;
    const bytes = memoryBytes(limit);
    run.memoryTimer = setInterval(() => {
      try {
        const rss = readFileSync(`/proc/${run.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
        if (rss && Number(rss[1]) * 1024 > bytes) {
          run.oomKilled = true;
          run.child.kill('SIGKILL');
        }
      } catch {
        // it ended
      }
    }, this.options.memoryCheckMs ?? 50);
  }

  /** Graceful deletion: SIGTERM, SIGKILL after the grace period; the object goes when it has ended. */
  private terminate(name: string, graceSeconds: number): void {
    const run = this.running.get(name);
    if (!run) {
      try {
        this.options.store.remove(this.options.namespace, name);
      } catch {
        // gone
      }
      return;
    }
    if (run.stopping) return;
    run.stopping = true;
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), graceSeconds * 1000);
    void run.exited.then(() => clearTimeout(timer));
  }
}
