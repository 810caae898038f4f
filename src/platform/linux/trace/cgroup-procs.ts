import { detectCgroups } from '../cgroup/detect.js';

/**
 * The pids in a sandbox's cgroup, found by its name: what a tracer in a process of its own (the
 * recorder of a container) needs to poll the processes that joined the sandbox from outside its
 * tree. Empty once the cgroup is gone.
 */
export function linuxCgroupProcs(cgroupName: string): () => number[] {
  const cgroup = detectCgroups().driver?.open(cgroupName);
  return () => cgroup?.procs() ?? [];
}
