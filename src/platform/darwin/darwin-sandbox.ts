import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { signalTree } from '../../limits/tree-signals.js';
import type { ResourceHandle, TreeSampler } from '../../limits/types.js';
import type { LaunchExit, LaunchedProcess, ProcessLauncher } from '../../process/types.js';
import type {
  LimitReport,
  NotEnforced,
  RunningSandbox,
  SandboxExit,
  SandboxStats,
  SandboxUsage,
} from '../../run/backend.js';
import type { LimitName } from '../../spec/types.js';

/** The leader is the command itself (through exec): a signal death has no exit code of its own. */
function decode(e: LaunchExit): SandboxExit {
  return {
    exitCode: e.code ?? (e.signal ? 128 + (constants.signals[e.signal] ?? 0) : null),
    signal: e.signal,
  };
}

export interface DarwinSandboxParts {
  /** The wrapper shell, which became sandbox-exec, which became the command: one pid throughout. */
  readonly leader: LaunchedProcess;
  readonly launcher: ProcessLauncher;
  /** The monitor: CPU and memory limits when asked for, and the accounting always. */
  readonly monitor: ResourceHandle;
  readonly sampler: TreeSampler;
  readonly limits: Partial<Record<LimitName, LimitReport>>;
  readonly notEnforced: NotEnforced[];
  /** corral's private directory for this run; removed in finish(). */
  readonly workspace: string;
}

/**
 * A running Seatbelt sandbox. The leader was started in a new session, so its pid is also the
 * process group of everything that stays in the group; signals go to that group at once and
 * then to every process of the tree found by ps (those that moved to groups of their own).
 */
export class DarwinSandbox implements RunningSandbox {
  readonly pid: number;
  readonly exited: Promise<SandboxExit>;
  private finishing: Promise<SandboxUsage> | undefined;
  private watchdogKilled = false;
  /** The leader has exited: its pid (and so its group id) may be reused; never signal -pid again. */
  private gone = false;

  constructor(private readonly parts: DarwinSandboxParts) {
    this.pid = parts.leader.pid;
    this.exited = parts.leader.exit.then((e) => {
      this.gone = true;
      return decode(e);
    });
    parts.monitor.onKill(() => {
      this.watchdogKilled = true;
      this.signal('SIGKILL');
    });
  }

  get stdin() {
    return this.parts.leader.stdin;
  }
  get stdout() {
    return this.parts.leader.stdout;
  }
  get stderr() {
    return this.parts.leader.stderr;
  }
  get limits() {
    return this.parts.limits;
  }
  get notEnforced() {
    return this.parts.notEnforced;
  }

  signal(signal: NodeJS.Signals): void {
    const { launcher, sampler } = this.parts;
    // The group first: one kill(2) reaches every member, including children forked a moment ago.
    if (!this.gone) launcher.signal(-this.pid, signal);
    void signalTree(sampler, [this.pid], signal, (pid, sig) => launcher.signal(pid, sig), undefined).catch(
      () => undefined,
    );
  }

  stats(): SandboxStats {
    const s = this.parts.monitor.stats();
    return {
      cpuUserMs: s.cpuUserMs,
      cpuSystemMs: s.cpuSystemMs,
      memoryBytes: s.memoryBytes,
      peakMemoryBytes: s.peakMemoryBytes,
      memoryLimitBytes: this.parts.monitor.config.memoryBytes ?? null,
      pids: s.pids,
    };
  }

  finish(): Promise<SandboxUsage> {
    this.finishing ??= this.doFinish();
    return this.finishing;
  }

  private async doFinish(): Promise<SandboxUsage> {
    const { monitor, launcher, sampler, leader, workspace } = this.parts;
    const seen = monitor.stats();
    // Resumes anything the throttle stopped before the rest is killed.
    await monitor.release();
    // Nothing of the run may outlive it: whatever is left in the group or the tree goes.
    if (!this.gone) launcher.signal(-this.pid, 'SIGKILL');
    await signalTree(
      sampler,
      [this.pid],
      'SIGKILL',
      (pid, sig) => launcher.signal(pid, sig),
      undefined,
    ).catch(() => undefined);
    await leader.exit.catch(() => undefined);
    await rm(workspace, { recursive: true, force: true }).catch(() => undefined);
    // Sampled figures: CPU up to one interval stale, peak memory a lower bound.
    return {
      cpuUserMs: Math.round(seen.cpuUserMs),
      cpuSystemMs: Math.round(seen.cpuSystemMs),
      peakMemoryBytes: seen.samples > 0 ? seen.peakMemoryBytes : null,
      oomKilled: this.watchdogKilled || seen.killed !== null,
    };
  }
}
