import type { ResolvedLimits } from '../../spec/types.js';
import type { LimitReport } from '../../run/backend.js';
import { formatBytes, formatDuration } from '../../spec/units.js';

/**
 * prlimit(1) options that wrap bubblewrap itself (`prlimit OPTS -- bwrap ...`): the limits are
 * set before bwrap execs and inherited by everything it starts, at the cost of one exec rather
 * than a round trip. These limits do not hinder bwrap: its CPU time is tiny, it writes no
 * regular files, and it dumps no core.
 */
export function wrapperArgs(limits: ResolvedLimits): string[] {
  // Core dumps of untrusted programs could fill disks or feed the host's core handler.
  const args = ['--core=0:0'];
  const cpu = cpuSeconds(limits);
  // soft < hard: SIGXCPU first (a clear "cpu-time" signal); SIGKILL a second later if it is caught.
  if (cpu !== undefined) args.push(`--cpu=${cpu}:${cpu + 1}`);
  // soft == hard so the program cannot raise its own limit.
  if (limits.fsizeBytes !== undefined) args.push(`--fsize=${limits.fsizeBytes}:${limits.fsizeBytes}`);
  return args;
}

/**
 * The same limits as `wrapperArgs`, as dash/POSIX `ulimit` commands for a warm start's parked
 * shell (it execs bwrap itself, so no prlimit exec is needed). Chained with `&&`: a limit the
 * shell cannot set stops it before bwrap runs. Undefined when a value has no exact `ulimit` form
 * (RLIMIT_FSIZE counts 512-byte blocks there): such runs start cold, through prlimit.
 */
export function ulimitCommands(limits: ResolvedLimits): string | undefined {
  // Soft first: the kernel refuses a hard limit below the current soft one.
  const set = (flag: string, soft: number, hard: number) =>
    `ulimit -S -${flag} ${soft} && ulimit -H -${flag} ${hard}`;
  const cmds = [set('c', 0, 0)];
  const cpu = cpuSeconds(limits);
  if (cpu !== undefined) cmds.push(set('t', cpu, cpu + 1));
  if (limits.fsizeBytes !== undefined) {
    if (limits.fsizeBytes % 512 !== 0) return undefined;
    cmds.push(set('f', limits.fsizeBytes / 512, limits.fsizeBytes / 512));
  }
  return cmds.join(' && ');
}

/**
 * RLIMIT_NOFILE cannot wrap bubblewrap (it needs descriptors of its own to build the sandbox), so
 * it is set on the sandbox's init while that is held before exec: `prlimit --pid PID ...`.
 */
export function nofileArgs(pid: number, nofile: number): string[] {
  return ['--pid', String(pid), `--nofile=${nofile}:${nofile}`];
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
