import { statSync } from 'node:fs';
import path from 'node:path';
import { detectCgroups, parseMountinfo } from '../../cgroup/detect.js';
import { readText } from '../../cgroup/fs.js';
import { DEFAULT_HIERARCHY } from './record-format.js';

/**
 * How the exec probe recognises a cgroup: by its directory's kernfs id (the inode number on
 * 64-bit kernels) together with its hierarchy, because every hierarchy numbers its own
 * directories and the same id names unrelated cgroups in two of them. A v1 hierarchy is named
 * by the subsystem id of a controller mounted on it, v2 by DEFAULT_HIERARCHY.
 */
export interface CgroupKey {
  readonly hierarchy: number;
  readonly id: bigint;
}

export interface CgroupKeyInputs {
  /** The cgroup's directories, one per hierarchy it has. */
  readonly dirs: readonly string[];
  readonly mountinfo: string;
  /** The kernel's subsystem id of a v1 controller (`memory`, `blkio`, ...), if it has one. */
  readonly subsystemId: (controller: string) => number | undefined;
  readonly inode: (dir: string) => bigint | undefined;
}

export function cgroupKeysOf(inputs: CgroupKeyInputs): CgroupKey[] {
  const mounts = parseMountinfo(inputs.mountinfo).filter(
    (m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2',
  );
  const out: CgroupKey[] = [];
  for (const dir of inputs.dirs) {
    const id = inputs.inode(dir);
    if (id === undefined) continue;
    // The mount the directory is under: the longest mount point that is a prefix of it.
    const mount = mounts
      .filter(
        (m) =>
          dir === m.mountPoint ||
          dir.startsWith(m.mountPoint.endsWith('/') ? m.mountPoint : `${m.mountPoint}/`),
      )
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (!mount) continue;
    if (mount.fsType === 'cgroup2') {
      out.push({ hierarchy: DEFAULT_HIERARCHY, id });
      continue;
    }
    for (const option of mount.superOptions) {
      const ssid = inputs.subsystemId(option);
      if (ssid !== undefined) out.push({ hierarchy: ssid, id });
    }
  }
  return out;
}

/** The keys of the sandbox cgroup called `name` on this host (empty when it does not exist). */
export function cgroupKeys(
  name: string,
  subsystemId: (controller: string) => number | undefined,
): CgroupKey[] {
  const cgroup = detectCgroups().driver?.open(name);
  if (!cgroup) return [];
  return cgroupKeysOf({
    dirs: cgroup.procsFiles().map((f) => path.dirname(f)),
    mountinfo: readText('/proc/self/mountinfo') ?? '',
    subsystemId,
    inode: (dir) => {
      try {
        return statSync(dir, { bigint: true }).ino;
      } catch {
        return undefined;
      }
    },
  });
}
