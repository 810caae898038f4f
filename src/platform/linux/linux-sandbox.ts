import { constants } from 'node:os';
import type { ProcessLauncher, LaunchedProcess } from '../../process/types.js';
import type {
  LimitReport,
  NotEnforced,
  RunningSandbox,
  SandboxExit,
  SandboxStats,
  SandboxUsage,
} from '../../run/backend.js';
import type { ResourceHandle } from '../../limits/types.js';
import type { LimitName } from '../../spec/types.js';
import type { Cgroup } from './cgroup/types.js';
import { descendantsOf } from './proc-tree.js';

export interface LinuxSandboxParts {
  readonly bwrap: LaunchedProcess;
  /** Host pid of the sandbox's pid-namespace init: killing it ends every process inside. */
  readonly initPid: number;
  readonly cgroup: Cgroup | undefined;
  readonly launcher: ProcessLauncher;
  readonly limits: Partial<Record<LimitName, LimitReport>>;
  readonly notEnforced: NotEnforced[];
  /** bwrap's own process when a warm start put it in the sandbox's cgroup. */
  readonly monitorPid?: number | undefined;
  /** Called once everything is released: parks the next warm-start spare. */
  readonly replenish?: (() => void) | undefined;
  /** Poll for OOM kills and end the whole sandbox on the first (cgroup v1 has no oom.group). */
  readonly oomPollMs: number | undefined;
  /** The userspace monitor holding memory/cpus where cgroups cannot; released in finish(). */
  readonly userspace?: ResourceHandle | undefined;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]),
);

/**
 * bubblewrap exits with the command's status, or 128+N when the command died of signal N
 * (shell convention). The two cannot be told apart from outside; corral reads 129..192 as a
 * signal, as shells do.
 */
export function decodeBwrapExit(code: number | null, signal: NodeJS.Signals | null): SandboxExit {
  if (code === null) return { exitCode: null, signal };
  if (code > 128 && code <= 128 + 64) return { exitCode: code, signal: SIGNAL_NAMES.get(code - 128) ?? null };
  return { exitCode: code, signal: null };
}

export class LinuxSandbox implements RunningSandbox {
  readonly pid: number;
  readonly exited: Promise<SandboxExit>;
  private oomTimer: NodeJS.Timeout | undefined;
  private oomSeen = false;
  private watchdogKilled = false;
  private gone = false;
  private finishing: Promise<SandboxUsage> | undefined;

  constructor(private readonly parts: LinuxSandboxParts) {
    this.pid = parts.initPid;
    this.exited = parts.bwrap.exit.then((e) => {
      // From here on initPid may be reused by an unrelated host process: never signal it again.
      this.gone = true;
      return decodeBwrapExit(e.code, e.signal);
    });
    if (parts.oomPollMs && parts.cgroup) {
      const cg = parts.cgroup;
      this.oomTimer = setInterval(() => {
        if (cg.stats().oomKills > 0) {
          // One process was OOM-killed; end them all so the run cannot limp on half-dead.
          this.oomSeen = true;
          this.signal('SIGKILL');
          clearInterval(this.oomTimer);
        }
      }, parts.oomPollMs);
      this.oomTimer.unref();
    }
    parts.userspace?.onKill(() => {
      // The watchdog killed what it saw; ending the init ends anything it could not see.
      this.watchdogKilled = true;
      this.signal('SIGKILL');
    });
  }

  get stdin() {
    return this.parts.bwrap.stdin;
  }
  get stdout() {
    return this.parts.bwrap.stdout;
  }
  get stderr() {
    return this.parts.bwrap.stderr;
  }
  get limits() {
    return this.parts.limits;
  }
  get notEnforced() {
    return this.parts.notEnforced;
  }

  signal(signal: NodeJS.Signals): void {
    const { launcher, initPid, cgroup, monitorPid } = this.parts;
    // A warm start's bubblewrap monitor shares the cgroup; killing it would lose the exit status.
    const inside = () => (cgroup?.procs() ?? []).filter((pid) => pid !== monitorPid);
    if (this.gone) {
      for (const pid of inside()) launcher.signal(pid, signal);
      return;
    }
    if (signal === 'SIGKILL') {
      // The kernel kills every process in a pid namespace when its init dies: setsid'd and
      // double-forked children included, with no window for them to fork away.
      launcher.signal(initPid, 'SIGKILL');
      for (const pid of inside()) launcher.signal(pid, 'SIGKILL');
      return;
    }
    // Other signals go to the processes inside, not to bwrap's init: init dying of SIGTERM
    // would SIGKILL the rest before they could handle the signal.
    const pids = cgroup ? inside() : descendantsOf(initPid);
    for (const pid of pids) if (pid !== initPid) launcher.signal(pid, signal);
  }

  stats(): SandboxStats {
    const s = this.parts.cgroup?.stats();
    const watched = this.parts.userspace?.stats();
    if (!s && watched) {
      return {
        cpuUserMs: watched.cpuUserMs,
        cpuSystemMs: watched.cpuSystemMs,
        memoryBytes: watched.memoryBytes,
        peakMemoryBytes: watched.peakMemoryBytes,
        memoryLimitBytes: this.parts.userspace?.config.memoryBytes ?? null,
        pids: watched.pids,
      };
    }
    if (!s) {
      return {
        cpuUserMs: null,
        cpuSystemMs: null,
        memoryBytes: null,
        peakMemoryBytes: null,
        memoryLimitBytes: null,
        pids: null,
      };
    }
    return {
      cpuUserMs: s.cpuUserUs === null ? null : s.cpuUserUs / 1000,
      cpuSystemMs: s.cpuSystemUs === null ? null : s.cpuSystemUs / 1000,
      memoryBytes: s.memoryCurrentBytes,
      peakMemoryBytes: s.memoryPeakBytes,
      memoryLimitBytes: s.memoryLimitBytes,
      pids: s.pidsCurrent,
    };
  }

  finish(): Promise<SandboxUsage> {
    if (!this.finishing) {
      this.finishing = this.doFinish();
      const replenish = this.parts.replenish;
      if (replenish)
        this.finishing.then(
          () => setImmediate(replenish),
          () => undefined,
        );
    }
    return this.finishing;
  }

  private async doFinish(): Promise<SandboxUsage> {
    clearInterval(this.oomTimer);
    const { cgroup, bwrap, launcher, initPid, userspace } = this.parts;
    const watched = userspace?.stats();
    // Resumes anything the throttle stopped, so nothing is left frozen if the kill fails.
    await userspace?.release();
    // Whatever happens to the caller, nothing of the sandbox may outlive the run.
    if (!this.gone) launcher.signal(initPid, 'SIGKILL');
    await bwrap.exit.catch(() => undefined);
    if (!cgroup) {
      // Sampled figures: CPU up to one interval stale, peak memory a lower bound.
      return {
        cpuUserMs: watched ? Math.round(watched.cpuUserMs) : null,
        cpuSystemMs: watched ? Math.round(watched.cpuSystemMs) : null,
        peakMemoryBytes: watched ? watched.peakMemoryBytes : null,
        oomKilled: this.watchdogKilled || watched?.killed != null,
      };
    }
    const s = cgroup.stats();
    await cgroup.destroy();
    return {
      cpuUserMs: s.cpuUserUs === null ? null : Math.round(s.cpuUserUs / 1000),
      cpuSystemMs: s.cpuSystemUs === null ? null : Math.round(s.cpuSystemUs / 1000),
      peakMemoryBytes: s.memoryPeakBytes ?? watched?.peakMemoryBytes ?? null,
      oomKilled: this.oomSeen || s.oomKills > 0 || this.watchdogKilled || watched?.killed != null,
    };
  }
}
