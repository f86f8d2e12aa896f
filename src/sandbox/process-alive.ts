/**
 * True while a process with this pid exists (signal 0 probes without signalling). EPERM means it
 * exists as another user's process. Used to tell the leftovers of a platform that died (cgroups,
 * run directories, uid claims) from those of one that runs.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
