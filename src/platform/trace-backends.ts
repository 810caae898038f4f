import type { TracerBackend } from '../trace/backend.js';
import { darwinTracerBackends } from './darwin/trace/backends.js';
import { linuxCgroupProcs } from './linux/trace/cgroup-procs.js';
import { linuxTracerBackends } from './linux/trace/backends.js';

/** The exec tracers this OS could offer, best first (empty where corral has none). */
export function tracerBackends(): TracerBackend[] {
  switch (process.platform) {
    case 'linux':
      return linuxTracerBackends();
    case 'darwin':
      return darwinTracerBackends();
    default:
      return [];
  }
}

/** Reads the pids of a sandbox's cgroup by its name; undefined where sandboxes have no cgroups. */
export function cgroupProcsReader(cgroupName: string): (() => number[]) | undefined {
  return process.platform === 'linux' ? linuxCgroupProcs(cgroupName) : undefined;
}
