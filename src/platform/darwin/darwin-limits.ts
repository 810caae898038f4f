import type { LimitReport, NotEnforced } from '../../run/backend.js';
import type { LimitName, ResolvedSpec } from '../../spec/types.js';
import { formatBytes } from '../../spec/units.js';
import type { DarwinRlimits } from './rlimit-wrapper.js';

/** Why --pids cannot be held on macOS, in reports and errors. */
export const NPROC_REASON =
  'macOS has no per-sandbox process limit: RLIMIT_NPROC counts every process of the user, and no cgroups exist';

export interface DarwinLimitPlan {
  readonly rlimits: DarwinRlimits;
  /** Reports for the limits held by the userspace monitor. */
  readonly monitored: Partial<Record<LimitName, LimitReport>>;
  readonly notEnforced: NotEnforced[];
  readonly monitor: { memoryBytes?: number; cpus?: number };
}

export function userspaceMechanism(limit: 'memory' | 'cpus', intervalMs: number): string {
  return limit === 'memory'
    ? `corral RSS watchdog: ps every ${intervalMs} ms, SIGKILL of the process group and tree over the limit`
    : `corral CPU throttle: ps every ${intervalMs} ms, SIGSTOP/SIGCONT of the process group and tree`;
}

/**
 * Splits the spec's limits between the rlimit wrapper (kernel), the userspace monitor, and what
 * cannot be held at all. `--pids` is passed on as NPROC so the wrapper refuses it, unless the
 * run is best-effort, where it is listed as not enforced instead.
 */
export function planDarwinLimits(spec: ResolvedSpec, intervalMs: number): DarwinLimitPlan {
  const l = spec.limits;
  const monitored: Partial<Record<LimitName, LimitReport>> = {};
  const notEnforced: NotEnforced[] = [];
  if (l.memoryBytes !== undefined) {
    monitored.memory = {
      value: formatBytes(l.memoryBytes),
      enforcement: 'userspace',
      mechanism: userspaceMechanism('memory', intervalMs),
      note: 'macOS has no memory cgroup; checked between samples only, so a fast allocator can go past the limit before it is killed',
    };
  }
  if (l.cpus !== undefined) {
    monitored.cpus = {
      value: String(l.cpus),
      enforcement: 'userspace',
      mechanism: userspaceMechanism('cpus', intervalMs),
      note: 'an average over intervals, not a hard quota: the sandbox runs at full speed between pauses',
    };
  }
  if (l.pids !== undefined && spec.bestEffort) {
    notEnforced.push({
      limit: 'pids',
      reason: NPROC_REASON,
      fix: 'run on Linux with cgroups for a pids limit',
    });
    monitored.pids = { value: String(l.pids), enforcement: 'none', mechanism: 'none', note: NPROC_REASON };
  }
  return {
    rlimits: {
      cpuTimeMs: l.cpuTimeMs,
      nofile: l.nofile,
      fsizeBytes: l.fsizeBytes,
      addressSpaceBytes: spec.macos?.addressSpaceBytes,
      nproc: spec.bestEffort ? undefined : l.pids,
    },
    monitored,
    notEnforced,
    monitor: {
      ...(l.memoryBytes !== undefined && { memoryBytes: l.memoryBytes }),
      ...(l.cpus !== undefined && { cpus: l.cpus }),
    },
  };
}
