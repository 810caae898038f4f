import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { readText } from './fs.js';
import type { CgroupDriver } from './types.js';
import { CgroupV1Driver, type V1Hierarchy } from './v1.js';
import { CgroupV2Driver } from './v2.js';

export interface CgroupDetection {
  readonly driver: CgroupDriver | undefined;
  /** Why no driver (or a partial one) is available, and what would fix it. */
  readonly problems: readonly { reason: string; fix: string }[];
}

export interface DetectOptions {
  readonly mountinfo?: string;
  readonly selfCgroup?: string;
  readonly uid?: number;
  /** Overrides the delegated v2 subtree (also `CORRAL_CGROUP_ROOT`). */
  readonly v2Root?: string;
  readonly parent?: string;
}

interface Mount {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Parses /proc/self/mountinfo (proc(5)): fields, then " - ", then fstype, source, super options. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mp = left[4];
    if (!mp || !right[0]) continue;
    out.push({
      mountPoint: mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      fsType: right[0],
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

/**
 * Picks the cgroup driver for this host: v2 when the unified hierarchy has the controllers we
 * need and we may write to it, else v1 when its hierarchies are mounted and writable.
 */
export function detectCgroups(options: DetectOptions = {}): CgroupDetection {
  const mountinfo = options.mountinfo ?? readText('/proc/self/mountinfo') ?? '';
  const selfCgroup = options.selfCgroup ?? readText('/proc/self/cgroup') ?? '';
  const uid = options.uid ?? process.getuid?.() ?? 0;
  const mounts = parseMountinfo(mountinfo);
  const problems: { reason: string; fix: string }[] = [];

  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  if (unified) {
    const v2 = tryV2(unified.mountPoint, selfCgroup, uid, options, problems);
    if (v2) return { driver: v2, problems };
  }

  const v1Mounts: Partial<Record<V1Hierarchy, string>> = {};
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') continue;
    for (const h of ['memory', 'cpu', 'cpuacct', 'pids'] as const) {
      if (m.superOptions.includes(h)) v1Mounts[h] = m.mountPoint;
    }
  }
  if (Object.keys(v1Mounts).length > 0) {
    const writable = Object.values(v1Mounts).every((p) => isWritable(p));
    if (writable) {
      return {
        driver: new CgroupV1Driver({ mounts: v1Mounts, ...(options.parent && { parent: options.parent }) }),
        problems,
      };
    }
    problems.push({
      reason: `cgroup v1 hierarchies are not writable by uid ${uid}`,
      fix: 'run corral as root, or use a host with cgroup v2 and systemd user delegation',
    });
  } else if (!unified) {
    problems.push({ reason: 'no cgroup filesystem is mounted', fix: 'mount cgroup2 on /sys/fs/cgroup' });
  }
  return { driver: undefined, problems };
}

function tryV2(
  mountPoint: string,
  selfCgroup: string,
  uid: number,
  options: DetectOptions,
  problems: { reason: string; fix: string }[],
): CgroupV2Driver | undefined {
  const rootControllers = (readText(path.join(mountPoint, 'cgroup.controllers')) ?? '').split(/\s+/);
  if (!['memory', 'cpu', 'pids'].some((c) => rootControllers.includes(c))) {
    // Hybrid hosts mount cgroup2 with none of our controllers (they stay with v1).
    return undefined;
  }
  const override = options.v2Root ?? process.env.CORRAL_CGROUP_ROOT;
  let delegated: string | undefined;
  if (override) {
    delegated = path.resolve(override);
  } else if (uid === 0) {
    delegated = mountPoint;
  } else {
    delegated = findDelegated(mountPoint, selfCgroup, uid);
    if (!delegated) {
      problems.push({
        reason: `cgroup v2 has no subtree delegated to uid ${uid}`,
        fix: 'run under a systemd user session (user@.service delegates cpu, memory and pids) or set CORRAL_CGROUP_ROOT to a cgroup you own',
      });
      return undefined;
    }
  }
  const driver = new CgroupV2Driver({ delegated, ...(options.parent && { parent: options.parent }) });
  const missing = ['memory', 'cpu', 'pids'].filter((c) => !driver.controllers.has(c as 'memory'));
  if (missing.length > 0) {
    problems.push({
      reason: `cgroup v2 controllers not delegated to ${delegated}: ${missing.join(', ')}`,
      fix: 'enable them with systemd (Delegate=yes, or a drop-in for user@.service listing Delegate=cpu memory pids)',
    });
  }
  return driver;
}

/** The highest ancestor of our own cgroup that belongs to us: what systemd delegated. */
function findDelegated(mountPoint: string, selfCgroup: string, uid: number): string | undefined {
  const line = selfCgroup.split('\n').find((l) => l.startsWith('0::'));
  if (!line) return undefined;
  const parts = line.slice(3).split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const dir = path.join(mountPoint, ...parts.slice(0, i));
    try {
      if (statSync(dir).uid === uid && isWritable(path.join(dir, 'cgroup.subtree_control'))) return dir;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function isWritable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
