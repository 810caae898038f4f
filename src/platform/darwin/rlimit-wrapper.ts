import { UnsupportedError } from '../../errors.js';
import type { LimitReport } from '../../run/backend.js';
import type { LimitName } from '../../spec/types.js';
import { formatBytes, formatDuration } from '../../spec/units.js';

/** The shell that sets the rlimits, then execs sandbox-exec: limits are inherited across exec. */
export const SH_PATH = '/bin/sh';

/** The wrapper reports on this descriptor, then closes it so the command never sees it. */
export const STATUS_FD = 3;
/**
 * With `hold`, the wrapper then waits for a line on this descriptor before exec: corral attaches
 * its monitors (and any onReady observer) before the command's first instruction. If corral goes
 * away instead, the read ends and so does the wrapper, before the command ever ran.
 */
export const GO_FD = 4;

export interface DarwinRlimits {
  readonly cpuTimeMs?: number | undefined;
  readonly nofile?: number | undefined;
  readonly fsizeBytes?: number | undefined;
  /** RLIMIT_AS: best-effort. */
  readonly addressSpaceBytes?: number | undefined;
  /** Always refused: on macOS RLIMIT_NPROC counts every process of the user. */
  readonly nproc?: number | undefined;
}

export interface RlimitWrapper {
  readonly file: string;
  /** `-c SCRIPT corral-rlimits COMMAND...`: the command is passed as "$@", never spliced. */
  readonly args: readonly string[];
  readonly reports: Partial<Record<LimitName, LimitReport>>;
}

/** What the wrapper said on STATUS_FD before exec'ing the command. */
export type WrapperStatus =
  { ok: true; addressSpace: 'set' | 'refused' | 'unset' } | { ok: false; failed: string };

const int = (n: number) => String(Math.trunc(n));

/**
 * Builds the `sh -c` wrapper. Only integers computed here enter the script; the command and its
 * arguments travel as positional parameters. Soft is set before hard (a hard limit below the
 * current soft one is refused). A limit that cannot be set stops the run with exit 125 and says
 * which; RLIMIT_AS alone is best-effort and its outcome is reported, not assumed.
 */
export function rlimitWrapper(
  limits: DarwinRlimits,
  command: readonly string[],
  hold = false,
): RlimitWrapper {
  if (limits.nproc !== undefined) {
    throw new UnsupportedError(
      `--pids ${limits.nproc} cannot be enforced on macOS: RLIMIT_NPROC counts every process of the ` +
        'user, not of the sandbox, so it would either not hold the sandbox or break the rest of the session',
      'drop --pids, or pass --best-effort to run without it',
      { limit: 'pids' },
    );
  }
  const lines = [
    `fail() { printf 'corral: cannot set %s\\n' "$1" >&2; printf 'fail %s\\n' "$1" >&${STATUS_FD}; exit 125; }`,
    // Core dumps of untrusted programs could fill the disk.
    'ulimit -S -c 0 && ulimit -H -c 0 || fail RLIMIT_CORE',
  ];
  const reports: Partial<Record<LimitName, LimitReport>> = {};
  if (limits.cpuTimeMs !== undefined) {
    const s = Math.max(1, Math.ceil(limits.cpuTimeMs / 1000));
    // soft < hard: SIGXCPU first (a clear cpu-time signal), SIGKILL a second later if it is caught.
    lines.push(`ulimit -S -t ${int(s)} && ulimit -H -t ${int(s + 1)} || fail RLIMIT_CPU`);
    reports.cpuTime = {
      value: formatDuration(limits.cpuTimeMs),
      enforcement: 'kernel',
      mechanism: 'rlimit RLIMIT_CPU (per process), set by /bin/sh ulimit before sandbox-exec',
      ...(s * 1000 !== limits.cpuTimeMs && { note: `rounded up to ${s}s: RLIMIT_CPU counts whole seconds` }),
    };
  }
  if (limits.nofile !== undefined) {
    lines.push(
      `ulimit -S -n ${int(limits.nofile)} && ulimit -H -n ${int(limits.nofile)} || fail RLIMIT_NOFILE`,
    );
    reports.nofile = {
      value: String(limits.nofile),
      enforcement: 'kernel',
      mechanism: 'rlimit RLIMIT_NOFILE, set by /bin/sh ulimit before sandbox-exec',
    };
  }
  if (limits.fsizeBytes !== undefined) {
    // POSIX ulimit -f counts 512-byte blocks: round down, never allow more than asked.
    const blocks = Math.max(1, Math.floor(limits.fsizeBytes / 512));
    lines.push(`ulimit -S -f ${int(blocks)} && ulimit -H -f ${int(blocks)} || fail RLIMIT_FSIZE`);
    reports.fsize = {
      value: formatBytes(limits.fsizeBytes),
      enforcement: 'kernel',
      mechanism: 'rlimit RLIMIT_FSIZE, set by /bin/sh ulimit before sandbox-exec',
      ...(blocks * 512 !== limits.fsizeBytes && {
        note: `rounded to ${blocks * 512} bytes: ulimit -f counts 512-byte blocks`,
      }),
    };
  }
  if (limits.addressSpaceBytes !== undefined) {
    const kib = Math.max(1, Math.floor(limits.addressSpaceBytes / 1024));
    lines.push(`as=set; { ulimit -S -v ${int(kib)} && ulimit -H -v ${int(kib)}; } 2>/dev/null || as=refused`);
  } else {
    lines.push('as=unset');
  }
  lines.push(`printf 'ok as=%s\\n' "$as" >&${STATUS_FD}`, `exec ${STATUS_FD}>&-`);
  if (hold) lines.push(`IFS= read -r go <&${GO_FD} && [ "$go" = go ] || exit 125`, `exec ${GO_FD}<&-`);
  lines.push('exec "$@"');
  return { file: SH_PATH, args: ['-c', lines.join('\n'), 'corral-rlimits', ...command], reports };
}

/** Reads the wrapper's one status line. */
export function parseWrapperStatus(text: string): WrapperStatus | undefined {
  const line = text.split('\n')[0]?.trim() ?? '';
  const ok = /^ok as=(set|refused|unset)$/.exec(line);
  if (ok) return { ok: true, addressSpace: ok[1] as 'set' | 'refused' | 'unset' };
  const fail = /^fail (RLIMIT_[A-Z]+)$/.exec(line);
  if (fail) return { ok: false, failed: fail[1] as string };
  return undefined;
}

/** How RLIMIT_AS ended up, once the wrapper has said. */
export function addressSpaceReport(bytes: number, outcome: 'set' | 'refused'): LimitReport {
  return outcome === 'set'
    ? {
        value: formatBytes(bytes),
        enforcement: 'kernel',
        mechanism: 'rlimit RLIMIT_AS, set by /bin/sh ulimit -v before sandbox-exec',
        note: 'best-effort: macOS accepts it but does not hold every allocation to it; the memory limit is the one that holds',
      }
    : {
        value: formatBytes(bytes),
        enforcement: 'none',
        mechanism: 'rlimit RLIMIT_AS (ulimit -v)',
        note: 'best-effort, and this time the shell refused it',
      };
}
