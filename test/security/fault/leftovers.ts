import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hostPidsWith } from '../../helpers/host.js';

const V1_HIERARCHIES = ['memory', 'cpu', 'cpuacct', 'pids', 'unified'];

/** Run cgroups (any v1 hierarchy, or v2) whose name says one of `owners` (corral pids) made them. */
export function runCgroupsOf(owners: ReadonlySet<number>): string[] {
  const out: string[] = [];
  const roots = [...V1_HIERARCHIES.map((h) => `/sys/fs/cgroup/${h}/corral`), '/sys/fs/cgroup/corral'];
  for (const root of new Set(roots)) {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of names) {
      const owner = Number(/^run-(\d+)-/.exec(name)?.[1]);
      if (owners.has(owner)) out.push(path.join(root, name));
    }
  }
  return out;
}

/** Mount points of the host's mount namespace (sandboxes mount only in their own). */
export function hostMounts(): Set<string> {
  return new Set(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => Boolean(m)),
  );
}

/** Everything a finished battery must not have left behind. */
export interface Leftovers {
  readonly processes: number[];
  readonly cgroups: string[];
  readonly mounts: string[];
  readonly tempEntries: string[];
}

export function leftovers(
  tag: string,
  owners: ReadonlySet<number>,
  mountsBefore: Set<string>,
  tmp: string,
): Leftovers {
  return {
    processes: hostPidsWith(tag),
    cgroups: runCgroupsOf(owners),
    mounts: [...hostMounts()].filter((m) => !mountsBefore.has(m)),
    // tsx (which runs the fixture corral processes) keeps its compile cache there: not corral's.
    tempEntries: readdirSync(tmp).filter((e) => !/^tsx-\d+$/.test(e)),
  };
}

export const count = (l: Leftovers) =>
  l.processes.length + l.cgroups.length + l.mounts.length + l.tempEntries.length;
