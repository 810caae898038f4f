import type { ResolvedLimits } from '../../spec/types.js';
import type { LimitReport } from '../../run/backend.js';
import { formatBytes, formatDuration } from '../../spec/units.js';

/** prlimit(1) arguments that set a sandbox's rlimits on `pid` (inherited by everything it starts). */
export function prlimitArgs(pid: number, limits: ResolvedLimits): string[] {
  return ['--pid', String(pid), ...rlimitOptions(limits)];
}

/** The rlimit options alone: with a command after `--`, prlimit sets them on itself and execs it. */
export function rlimitOptions(limits: ResolvedLimits): string[] {
  // Core dumps of untrusted programs could fill disks or reach the host's core handler.
  const args = ['--core=0:0'];
  const cpu = cpuSeconds(limits);
  // soft < hard: SIGXCPU first (a clear "cpu-time" signal); SIGKILL a second later if it is caught.
  if (cpu !== undefined) args.push(`--cpu=${cpu}:${cpu + 1}`);
  // soft == hard for the rest, so the program cannot raise its own limit.
  if (limits.nofile !== undefined) args.push(`--nofile=${limits.nofile}:${limits.nofile}`);
  if (limits.fsizeBytes !== undefined) args.push(`--fsize=${limits.fsizeBytes}:${limits.fsizeBytes}`);
  return args;
}

/** RLIMIT_CPU counts whole seconds: a sub-second request is rounded up, and the report says so. */
export function cpuSeconds(limits: ResolvedLimits): number | undefined {
  return limits.cpuTimeMs === undefined ? undefined : Math.max(1, Math.ceil(limits.cpuTimeMs / 1000));
}

export function rlimitReports(
  limits: ResolvedLimits,
): Partial<Record<'cpuTime' | 'nofile' | 'fsize', LimitReport>> {
  const out: Partial<Record<'cpuTime' | 'nofile' | 'fsize', LimitReport>> = {};
  const cpu = cpuSeconds(limits);
  if (limits.cpuTimeMs !== undefined && cpu !== undefined) {
    out.cpuTime = {
      value: formatDuration(limits.cpuTimeMs),
      enforcement: 'kernel',
      mechanism: 'rlimit RLIMIT_CPU (per process)',
      ...(cpu * 1000 !== limits.cpuTimeMs && {
        note: `rounded up to ${cpu}s: RLIMIT_CPU counts whole seconds`,
      }),
    };
  }
  if (limits.nofile !== undefined) {
    out.nofile = { value: String(limits.nofile), enforcement: 'kernel', mechanism: 'rlimit RLIMIT_NOFILE' };
  }
  if (limits.fsizeBytes !== undefined) {
    out.fsize = {
      value: formatBytes(limits.fsizeBytes),
      enforcement: 'kernel',
      mechanism: 'rlimit RLIMIT_FSIZE',
    };
  }
  return out;
}
