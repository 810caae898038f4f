import type { Capability } from '../../capabilities/types.js';
import { DEFAULT_INTERVAL_MS } from '../../limits/config.js';
import type { LimitKind, ResourceHandle, ResourceLimiter } from '../../limits/types.js';
import { UserspaceLimiter } from '../../limits/userspace-limiter.js';
import type { LimitReport } from '../../run/backend.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { formatBytes } from '../../spec/units.js';
import { ProcSampler } from './proc-sampler.js';

/**
 * Where cgroups cannot hold memory or cpus (a non-root user without a delegated cgroup), the
 * userspace monitors do, watching the sandbox's init and everything below it through /proc.
 * Orphans stay in view: inside the pid namespace they are reparented to that init.
 */

const MECHANISM: Record<LimitKind, string> = {
  memory: 'corral RSS watchdog: /proc sampled every INTERVAL, SIGKILL of the whole sandbox over the limit',
  cpus: 'corral CPU throttle: /proc sampled every INTERVAL, SIGSTOP/SIGCONT of every sandbox process',
};

const WEAKNESS: Record<LimitKind, string> = {
  memory: 'checked between samples only: a fast allocator can go past the limit before it is killed',
  cpus: 'an average over intervals, not a hard quota: the sandbox runs at full speed between pauses',
};

export function userspaceMechanism(limit: LimitKind, intervalMs = DEFAULT_INTERVAL_MS): string {
  return MECHANISM[limit].replace('INTERVAL', `${intervalMs} ms`);
}

/** How a limit held by the userspace monitor is reported for one run. */
export function userspaceLimitReport(
  limit: LimitKind,
  spec: ResolvedSpec,
  why: string,
  intervalMs = DEFAULT_INTERVAL_MS,
): LimitReport {
  return {
    value: limit === 'memory' ? formatBytes(spec.limits.memoryBytes ?? 0) : String(spec.limits.cpus),
    enforcement: 'userspace',
    mechanism: userspaceMechanism(limit, intervalMs),
    note: `no cgroup for it (${why}); ${WEAKNESS[limit]}`,
  };
}

/** The default limiter on Linux: /proc sampling and process.kill. */
export function procLimiter(): ResourceLimiter {
  return new UserspaceLimiter({ sampler: new ProcSampler() });
}

/** Starts watching a sandbox's init for the limits that fell back to userspace. */
export function watchSandbox(
  limiter: ResourceLimiter,
  spec: ResolvedSpec,
  limits: readonly LimitKind[],
  initPid: number,
  intervalMs = DEFAULT_INTERVAL_MS,
): ResourceHandle | undefined {
  if (limits.length === 0) return undefined;
  const handle = limiter.apply({
    ...(limits.includes('memory') && { memoryBytes: spec.limits.memoryBytes }),
    ...(limits.includes('cpus') && { cpus: spec.limits.cpus }),
    intervalMs,
  });
  handle.assign(initPid);
  return handle;
}

/**
 * The capability entry for a limit cgroups cannot hold here: `userspace` when /proc can be
 * sampled (tried on this very process), else unavailable.
 */
export function userspaceCapability(limit: LimitKind, cgroupProblem: Capability): Capability {
  const self = new ProcSampler().sampleSync([process.pid])[0];
  const works = self !== undefined && self.rssBytes > 0 && self.cpuUserMs + self.cpuSystemMs > 0;
  if (!works) return cgroupProblem;
  return {
    status: 'userspace',
    mechanism: userspaceMechanism(limit),
    reason: `${cgroupProblem.reason ?? 'no cgroup controller'}; ${WEAKNESS[limit]}`,
    ...(cgroupProblem.fix && { fix: `for kernel enforcement: ${cgroupProblem.fix}` }),
  };
}
