import { LaunchError, UnsupportedError } from '../../errors.js';
import type { LimitReport, NotEnforced } from '../../run/backend.js';
import type { LimitName, ResolvedSpec } from '../../spec/types.js';
import { formatBytes } from '../../spec/units.js';
import type { CgroupDetection } from './cgroup/detect.js';
import type { Cgroup, CgroupController, CgroupDriver } from './cgroup/types.js';
import type { LimitKind } from '../../limits/types.js';
import { userspaceLimitReport } from './userspace-limits.js';

const CGROUP_LIMITS: readonly { limit: LimitName; controller: CgroupController; flag: string }[] = [
  { limit: 'memory', controller: 'memory', flag: '--memory' },
  { limit: 'cpus', controller: 'cpu', flag: '--cpus' },
  { limit: 'pids', controller: 'pids', flag: '--pids' },
];

export interface LimitPlan {
  readonly limits: Partial<Record<LimitName, LimitReport>>;
  readonly notEnforced: NotEnforced[];
  readonly useCgroup: boolean;
  /** Limits a userspace monitor must hold because no cgroup controller can. */
  readonly userspace: LimitKind[];
}

/**
 * Decides, before anything starts, which cgroup limits this host can enforce. Where no cgroup
 * controller can hold memory or cpus, a userspace monitor does, if `userspaceIntervalMs` says
 * one may run (a one-shot run has corral resident; a detached container does not). Anything
 * else missing refuses the run, unless bestEffort, in which case the report says what is missing.
 */
export function planCgroupLimits(
  spec: ResolvedSpec,
  detection: CgroupDetection,
  userspaceIntervalMs: number | undefined,
): LimitPlan {
  const limits: Partial<Record<LimitName, LimitReport>> = {};
  const notEnforced: NotEnforced[] = [];
  const userspace: LimitKind[] = [];
  const requested = {
    memory: spec.limits.memoryBytes,
    cpus: spec.limits.cpus,
    pids: spec.limits.pids,
  } as const;
  for (const { limit, controller, flag } of CGROUP_LIMITS) {
    if (requested[limit as keyof typeof requested] === undefined) continue;
    if (detection.driver?.controllers.has(controller)) continue;
    const problem = detection.problems[0] ?? {
      reason: `the cgroup ${controller} controller is not available`,
      fix: `enable the ${controller} controller`,
    };
    if ((limit === 'memory' || limit === 'cpus') && userspaceIntervalMs !== undefined) {
      // No honest userspace pids limit exists (a monitor sees forks too late); these two do.
      limits[limit] = userspaceLimitReport(limit, spec, problem.reason, userspaceIntervalMs);
      userspace.push(limit);
      continue;
    }
    // A userspace monitor could hold it for a run, but a detached container has no corral to run one.
    const detached =
      (limit === 'memory' || limit === 'cpus') && userspaceIntervalMs === undefined
        ? ' (and a detached container has no corral process to run the userspace monitor)'
        : '';
    if (!spec.bestEffort) {
      throw new UnsupportedError(
        `${flag} cannot be enforced on this host: ${problem.reason}${detached}`,
        `${problem.fix}; or pass --best-effort to run without it`,
        { limit },
      );
    }
    notEnforced.push({ limit, reason: problem.reason, fix: problem.fix });
    limits[limit] = {
      value: displayLimit(limit, spec),
      enforcement: 'none',
      mechanism: 'none',
      note: problem.reason,
    };
  }
  // A cgroup is used whenever one can be made, even with no limits: it is also the accounting.
  return { limits, notEnforced, useCgroup: detection.driver !== undefined, userspace };
}

/** Creates the sandbox's cgroup and writes its limits; records how each was applied in `limits`. */
export function createLimitedCgroup(
  driver: CgroupDriver,
  name: string,
  spec: ResolvedSpec,
  limits: Partial<Record<LimitName, LimitReport>>,
): Cgroup | undefined {
  let cg: Cgroup;
  try {
    cg = driver.create(name);
  } catch (err) {
    if (Object.keys(cgroupWants(driver, spec)).length === 0) return undefined; // accounting only: run without it
    throw new LaunchError(
      `cannot create a cgroup under ${driver.base}: ${(err as Error).message}`,
      { base: driver.base },
      { cause: err },
    );
  }
  applyCgroupLimits(driver, cg, spec, limits);
  return cg;
}

/**
 * Writes the spec's limits into an existing cgroup and records how each is enforced; on refusal
 * the cgroup is destroyed. `infrastructure` counts corral's own processes living in the cgroup
 * besides bwrap's init (a warm start's bubblewrap monitor), which --pids does not charge to the
 * command.
 */
export function applyCgroupLimits(
  driver: CgroupDriver,
  cg: Cgroup,
  spec: ResolvedSpec,
  limits: Partial<Record<LimitName, LimitReport>>,
  infrastructure = 0,
): void {
  const want = cgroupWants(driver, spec);
  if (want.pids !== undefined) want.pids += infrastructure;
  try {
    const applied = cg.apply(want);
    for (const [limit, mechanism] of Object.entries(applied) as ['memory' | 'cpus' | 'pids', string][]) {
      limits[limit] = { value: displayLimit(limit, spec), enforcement: 'kernel', mechanism };
    }
  } catch (err) {
    void cg.destroy().catch(() => undefined);
    throw new LaunchError(
      `the kernel refused a cgroup limit in ${cg.location}: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

function cgroupWants(
  driver: CgroupDriver,
  spec: ResolvedSpec,
): { memoryBytes?: number; cpus?: number; pids?: number } {
  return {
    ...(spec.limits.memoryBytes !== undefined &&
      driver.controllers.has('memory') && { memoryBytes: spec.limits.memoryBytes }),
    ...(spec.limits.cpus !== undefined && driver.controllers.has('cpu') && { cpus: spec.limits.cpus }),
    ...(spec.limits.pids !== undefined && driver.controllers.has('pids') && { pids: spec.limits.pids }),
  };
}

export function displayLimit(limit: LimitName, spec: ResolvedSpec): string {
  if (limit === 'memory') return formatBytes(spec.limits.memoryBytes ?? 0);
  if (limit === 'cpus') return String(spec.limits.cpus);
  return String(spec.limits.pids);
}
