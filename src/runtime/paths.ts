import path from 'node:path';

/** Every file of one container, in `containers/<name>/` under the data dir. */
export interface ContainerPaths {
  readonly dir: string;
  /** Written once by create: the resolved spec, image, port. */
  readonly config: string;
  /** Rewritten (atomically) by every lifecycle step. */
  readonly state: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Where bubblewrap writes `{"exit-code": N}` when the command ends (one file per start). */
  readonly status: string;
  /** A FIFO the sandbox's init waits on until its limits are in place. */
  readonly block: string;
  /** The system call filter program bubblewrap loads at each start (exec loads it again). */
  readonly seccomp: string;
  /** The exec trace (traced containers): JSONL records that each start's recorder appends. */
  readonly trace: string;
  /** Written by the timeout watcher when it ends the container. */
  readonly timedOut: string;
  /** The container's root filesystem (image containers): overlay mount point or copy. */
  readonly rootfs: string;
  readonly upper: string;
  readonly work: string;
}

export function containerPaths(dataDir: string, name: string): ContainerPaths {
  const dir = path.join(dataDir, 'containers', name);
  return {
    dir,
    config: path.join(dir, 'container.json'),
    state: path.join(dir, 'state.json'),
    stdout: path.join(dir, 'stdout.log'),
    stderr: path.join(dir, 'stderr.log'),
    status: path.join(dir, 'status.json'),
    block: path.join(dir, 'block.fifo'),
    seccomp: path.join(dir, 'seccomp.bpf'),
    trace: path.join(dir, 'trace.jsonl'),
    timedOut: path.join(dir, 'timed-out'),
    rootfs: path.join(dir, 'rootfs'),
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
  };
}

export function lockDir(dataDir: string, name: string): string {
  return path.join(dataDir, 'locks', name);
}

export function imageDir(dataDir: string, name: string): string {
  return path.join(dataDir, 'images', name);
}
