import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Limits a cgroup enforces for one instance. */
export interface CgroupLimits {
  memoryMb: number;
  maxProcesses: number;
}

/** The cgroup(s) of one instance. */
export interface InstanceCgroup {
  /** Moves a process (and so all it will start) into the cgroup. */
  addProcess(pid: number): Promise<void>;
  /** True once the kernel has killed something in it for exceeding the memory limit. */
  outOfMemory(): Promise<boolean>;
  /** Removes the cgroup once its processes are gone (retries briefly while they exit). */
  remove(): Promise<void>;
}

/** Creates per-instance cgroups on one cgroup hierarchy layout (v1 or v2). */
export interface CgroupDriver {
  readonly version: 'v1' | 'v2';
  /** Directories instance cgroups are created in (one per hierarchy). */
  readonly bases: readonly string[];
  create(name: string, limits: CgroupLimits): Promise<InstanceCgroup>;
}

/** What the host offers, as read from /proc (injectable for tests). */
export interface CgroupHostInfo {
  /** Contents of /proc/self/mountinfo. */
  mountinfo: string;
  /** Contents of /proc/self/cgroup. */
  selfCgroup: string;
}

export function readHostInfo(): CgroupHostInfo {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  return { mountinfo: read('/proc/self/mountinfo'), selfCgroup: read('/proc/self/cgroup') };
}

const MB = 1024 * 1024;

async function writeControl(dir: string, file: string, value: string): Promise<void> {
  await writeFile(join(dir, file), value);
}

async function counter(file: string, key: string): Promise<number> {
  try {
    const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(await readFile(file, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** rmdir that waits for the last processes of a killed instance to leave (EBUSY meanwhile). */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** cgroup v1: one hierarchy per controller; instances get a directory in `memory` and in `pids`. */
export class CgroupV1Driver implements CgroupDriver {
  readonly version = 'v1';
  constructor(
    private readonly memoryBase: string,
    private readonly pidsBase: string,
  ) {}

  get bases(): readonly string[] {
    return [this.memoryBase, this.pidsBase];
  }

  async create(name: string, limits: CgroupLimits): Promise<InstanceCgroup> {
    const memory = join(this.memoryBase, name);
    const pids = join(this.pidsBase, name);
    await mkdir(memory, { recursive: true });
    await mkdir(pids, { recursive: true });
    const bytes = String(limits.memoryMb * MB);
    await writeControl(memory, 'memory.limit_in_bytes', bytes);
    // No swapping around the limit where swap accounting exists (it must follow limit_in_bytes).
    await writeControl(memory, 'memory.memsw.limit_in_bytes', bytes).catch(() => undefined);
    await writeControl(pids, 'pids.max', String(limits.maxProcesses));
    return {
      addProcess: async (pid) => {
        await writeControl(memory, 'cgroup.procs', String(pid));
        await writeControl(pids, 'cgroup.procs', String(pid));
      },
      outOfMemory: async () => (await counter(join(memory, 'memory.oom_control'), 'oom_kill')) > 0,
      remove: async () => {
        await Promise.all([removeDir(memory), removeDir(pids)]);
      },
    };
  }
}

/** cgroup v2: one unified hierarchy; the parent directory delegates the memory and pids controllers. */
export class CgroupV2Driver implements CgroupDriver {
  readonly version = 'v2';
  constructor(private readonly base: string) {}

  get bases(): readonly string[] {
    return [this.base];
  }

  async create(name: string, limits: CgroupLimits): Promise<InstanceCgroup> {
    const dir = join(this.base, name);
    await mkdir(dir, { recursive: true });
    await writeControl(dir, 'memory.max', String(limits.memoryMb * MB));
    await writeControl(dir, 'memory.swap.max', '0').catch(() => undefined);
    await writeControl(dir, 'pids.max', String(limits.maxProcesses));
    return {
      addProcess: (pid) => writeControl(dir, 'cgroup.procs', String(pid)),
      outOfMemory: async () => (await counter(join(dir, 'memory.events'), 'oom_kill')) > 0,
      remove: () => removeDir(dir),
    };
  }
}

interface Mount {
  point: string;
  fstype: string;
  superOptions: string[];
}

function parseMounts(mountinfo: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    // "id parent major:minor root point options [optional...] - fstype source superoptions"
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const point = left.split(' ')[4];
    const [fstype, , superOptions] = right.split(' ');
    if (point && fstype) mounts.push({ point: point.replace(/\\040/g, ' '), fstype, superOptions: (superOptions ?? '').split(',') });
  }
  return mounts;
}

/** The platform's own cgroup path per v1 controller, and under v2 (key ''). */
function ownPaths(selfCgroup: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of selfCgroup.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    for (const controller of match[1]!.split(',')) paths.set(controller, match[2]!);
  }
  return paths;
}

/**
 * Finds a layout where this process can create cgroups with memory and pids limits, and proves
 * it by creating, limiting and removing a probe cgroup. Prefers v2, falls back to v1. `group`
 * names the directory instance cgroups go under (one per platform process).
 */
export async function detectCgroups(group: string, host: CgroupHostInfo = readHostInfo()): Promise<{ driver?: CgroupDriver; reason: string }> {
  const mounts = parseMounts(host.mountinfo);
  const own = ownPaths(host.selfCgroup);
  const failures: string[] = [];

  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  if (unified) {
    const controllers = await readFile(join(unified.point, 'cgroup.controllers'), 'utf8').catch(() => '');
    if (/\bmemory\b/.test(controllers) && /\bpids\b/.test(controllers)) {
      // Our own cgroup usually holds processes, and v2 forbids controllers there ("no internal
      // processes"); the hierarchy's root is exempt, so it is the fallback.
      for (const parent of [...new Set([join(unified.point, own.get('') ?? '/'), unified.point])]) {
        try {
          await writeControl(parent, 'cgroup.subtree_control', '+memory +pids');
          const base = join(parent, group);
          await mkdir(base, { recursive: true });
          await writeControl(base, 'cgroup.subtree_control', '+memory +pids');
          const driver = new CgroupV2Driver(base);
          await probe(driver);
          return { driver, reason: `cgroup v2 at ${base}` };
        } catch (err) {
          failures.push(`v2 under ${parent}: ${(err as Error).message}`);
        }
      }
    } else {
      failures.push('v2: the memory and pids controllers are not available');
    }
  }

  const v1 = (controller: string) => mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes(controller));
  const memory = v1('memory');
  const pids = v1('pids');
  if (memory && pids) {
    const driver = new CgroupV1Driver(join(memory.point, own.get('memory') ?? '/', group), join(pids.point, own.get('pids') ?? '/', group));
    try {
      await probe(driver);
      return { driver, reason: `cgroup v1 (memory, pids)` };
    } catch (err) {
      failures.push(`v1: ${(err as Error).message}`);
    }
  } else if (memory || pids || !unified) {
    failures.push('v1: the memory and pids hierarchies are not both mounted');
  }
  return { reason: failures.join('; ') || 'no cgroup file system is mounted' };
}

/** Removes the (empty) directories instance cgroups were created in. */
export async function removeBases(driver: CgroupDriver): Promise<void> {
  for (const base of driver.bases) await rmdir(base).catch(() => undefined);
}

async function probe(driver: CgroupDriver): Promise<void> {
  const cgroup = await driver.create(`probe-${process.pid}`, { memoryMb: 64, maxProcesses: 8 });
  await cgroup.remove();
}

/** Removes instance cgroups left by platform processes that no longer run (after a crash). */
export async function removeStaleGroups(parentDirs: string[], prefix: string, isAlive: (pid: number) => boolean): Promise<void> {
  for (const parent of parentDirs) {
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const pid = Number(entry.name.slice(prefix.length));
      if (!entry.isDirectory() || !entry.name.startsWith(prefix) || !Number.isInteger(pid) || isAlive(pid)) continue;
      const group = join(parent, entry.name);
      for (const child of await readdir(group, { withFileTypes: true }).catch(() => [])) {
        if (child.isDirectory()) await rmdir(join(group, child.name)).catch(() => undefined);
      }
      await rmdir(group).catch(() => undefined);
    }
  }
}
