import type { LimitName, ResolvedLimits } from '../spec/types.js';
import { formatBytes, formatDuration } from '../spec/units.js';
import type { TraceSummary } from '../trace/summary.js';
import type { LimitReport, NotEnforced, SandboxExit, SandboxUsage } from './backend.js';

/** Why a run ended. */
export type RunReason = 'exit' | 'signal' | 'timeout' | 'memory' | 'cpu-time' | 'file-size';

/** The honest account of one run. Also what `--result-file` writes. */
export interface RunResult {
  /** The command's exit status; 128+N when it died of signal N (137 for a kill by timeout or memory). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly reason: RunReason;
  readonly wallMs: number;
  /** CPU time of every process in the sandbox; null where the host cannot account for it. */
  readonly cpuUserMs: number | null;
  readonly cpuSystemMs: number | null;
  readonly peakMemoryBytes: number | null;
  /** Every requested limit and how it was enforced. */
  readonly limits: Readonly<Partial<Record<LimitName, LimitReport>>>;
  /** Requested limits that were not enforced (only possible with bestEffort). */
  readonly notEnforced: readonly NotEnforced[];
  /** One line for people when a limit ended the run, e.g. `memory limit 256Mi exceeded (peak 256Mi)`. */
  readonly message?: string;
  /** Captured output (library run with capture). */
  readonly stdout?: string;
  readonly stderr?: string;
  readonly stdoutTruncated?: boolean;
  readonly stderrTruncated?: boolean;
  /** With `trace`: what ran in the sandbox (counts, commands, flagged execs). */
  readonly trace?: TraceSummary;
}

export interface ReasonInput {
  readonly exit: SandboxExit;
  readonly usage: SandboxUsage;
  readonly timedOut: boolean;
  readonly limits: ResolvedLimits;
}

/** Decides why the run ended, most specific cause first. */
export function decideReason({ exit, usage, timedOut, limits }: ReasonInput): RunReason {
  if (timedOut) return 'timeout';
  if (usage.oomKilled && exit.signal !== null) return 'memory';
  if (exit.signal === 'SIGXCPU' && limits.cpuTimeMs !== undefined) return 'cpu-time';
  if (exit.signal === 'SIGKILL' && limits.cpuTimeMs !== undefined) {
    const used = (usage.cpuUserMs ?? 0) + (usage.cpuSystemMs ?? 0);
    // The hard RLIMIT_CPU (one second past the soft one) kills programs that catch SIGXCPU.
    if (used >= Math.ceil(limits.cpuTimeMs / 1000) * 1000) return 'cpu-time';
  }
  if (exit.signal === 'SIGXFSZ' && limits.fsizeBytes !== undefined) return 'file-size';
  if (exit.signal !== null) return 'signal';
  return 'exit';
}

/** The line the CLI prints when a limit ended the run. */
export function limitMessage(
  reason: RunReason,
  limits: ResolvedLimits,
  usage: SandboxUsage,
): string | undefined {
  switch (reason) {
    case 'timeout':
      return `timeout ${formatDuration(limits.timeoutMs ?? 0)} reached`;
    case 'memory': {
      const peak = usage.peakMemoryBytes === null ? '' : ` (peak ${formatBytes(usage.peakMemoryBytes)})`;
      return `memory limit ${formatBytes(limits.memoryBytes ?? 0)} exceeded${peak}`;
    }
    case 'cpu-time':
      return `cpu-time limit ${formatDuration(limits.cpuTimeMs ?? 0)} exceeded`;
    case 'file-size':
      return `file-size limit ${formatBytes(limits.fsizeBytes ?? 0)} exceeded`;
    default:
      return undefined;
  }
}
