import type { CheckedConfig } from './config.js';
import { CpuBudget } from './cpu-budget.js';
import { signalTree } from './tree-signals.js';
import type {
  Clock,
  KillEvent,
  ProcessSample,
  ResourceHandle,
  ResourceStats,
  Signaller,
  TreeSampler,
} from './types.js';

export interface MonitorParts {
  readonly sampler: TreeSampler;
  readonly signal: Signaller;
  readonly clock: Clock;
}

/**
 * Samples the assigned trees every interval. Over the memory limit: SIGKILL for the whole tree.
 * Over the CPU allowance: SIGSTOP for the whole tree, a pause proportional to the excess, then
 * SIGCONT. Release always resumes what it stopped.
 */
export class UserspaceHandle implements ResourceHandle {
  private roots: number[] = [];
  /** Each root's start time as first sampled: a root whose pid comes back younger is not ours. */
  private readonly rootStarts = new Map<number, string>();
  private readonly budget: CpuBudget | undefined;
  private readonly abort = new AbortController();
  private readonly listeners: ((e: KillEvent) => void)[] = [];
  private loop: Promise<void> | undefined;
  private releasing: Promise<void> | undefined;
  private stoppedPids = new Set<number>();
  private last: { t: number; user: number; system: number } | undefined;
  private s: Omit<ResourceStats, 'stopped'> = {
    cpuUserMs: 0,
    cpuSystemMs: 0,
    cpuPercent: null,
    memoryBytes: 0,
    peakMemoryBytes: 0,
    pids: 0,
    samples: 0,
    throttles: 0,
    throttledMs: 0,
    killed: null,
  };

  constructor(
    readonly config: CheckedConfig,
    private readonly parts: MonitorParts,
  ) {
    this.budget = config.cpus === undefined ? undefined : new CpuBudget(config.cpus, config.intervalMs);
  }

  assign(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 1) throw new RangeError(`assign: not a process id: ${pid}`);
    if (this.releasing || this.s.killed) return;
    if (!this.roots.includes(pid)) this.roots.push(pid);
    this.loop ??= this.run().catch(() => undefined);
  }

  stats(): ResourceStats {
    return { ...this.s, stopped: this.stoppedPids.size > 0 };
  }

  onKill(listener: (event: KillEvent) => void): void {
    this.listeners.push(listener);
  }

  release(): Promise<void> {
    this.releasing ??= this.doRelease();
    return this.releasing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  private get done(): boolean {
    return this.abort.signal.aborted || this.s.killed !== null;
  }

  private async doRelease(): Promise<void> {
    this.abort.abort();
    // Wait for a tick in flight: it may be between its SIGSTOP rounds.
    await this.loop;
    await this.resume();
  }

  private async run(): Promise<void> {
    const { clock } = this.parts;
    const interval = this.config.intervalMs;
    // A first sample at once: a baseline for the CPU budget, and an early memory check.
    let next = clock.now();
    while (!this.done) {
      const wait = next - clock.now();
      if (wait > 0) await clock.sleep(wait, this.abort.signal);
      if (this.done) break;
      const paused = await this.tick();
      const now = clock.now();
      // After a pause the tree gets a full interval of running before it is judged again.
      next = paused ? now + interval : Math.max(next + interval, now);
    }
  }

  /** One sample and the decisions it leads to; returns whether the tree was paused. */
  private async tick(): Promise<boolean> {
    const { sampler, clock } = this.parts;
    let samples: readonly ProcessSample[];
    try {
      samples = await sampler.sample(this.roots);
    } catch {
      return false; // a failed sample is retried next interval
    }
    if (this.done) return false;
    if (this.dropReusedRoots(samples)) return false;
    const t = clock.now();
    this.record(t, samples);
    const limit = this.config.memoryBytes;
    if (limit !== undefined && this.s.memoryBytes > limit) {
      await this.kill(t, samples, limit);
      return false;
    }
    const pause = this.budget?.observe(t, this.s.cpuUserMs + this.s.cpuSystemMs) ?? 0;
    if (pause <= 0 || samples.length === 0) return false;
    await this.throttle(samples, pause);
    return true;
  }

  /**
   * A root that exited may have its pid reused by an unrelated process before release(): that
   * process must never be stopped or killed. Returns whether a root was dropped (the sample is
   * then discarded: it may hold the stranger's children).
   */
  private dropReusedRoots(samples: readonly ProcessSample[]): boolean {
    let dropped = false;
    for (const root of this.roots) {
      const start = samples.find((p) => p.pid === root)?.startTime;
      if (start === undefined) continue;
      const first = this.rootStarts.get(root);
      if (first === undefined) this.rootStarts.set(root, start);
      else if (first !== start) {
        this.roots = this.roots.filter((r) => r !== root);
        dropped = true;
      }
    }
    return dropped;
  }

  private record(t: number, samples: readonly ProcessSample[]): void {
    let user = 0;
    let system = 0;
    let rss = 0;
    for (const p of samples) {
      user += p.cpuUserMs;
      system += p.cpuSystemMs;
      rss += p.rssBytes;
    }
    const prev = this.last;
    this.last = { t, user, system };
    // Totals are accumulated from increases: a process leaving the tree must not make the
    // tree's CPU time go backwards.
    const addUser = prev ? Math.max(0, user - prev.user) : user;
    const addSystem = prev ? Math.max(0, system - prev.system) : system;
    this.s = {
      ...this.s,
      cpuUserMs: this.s.cpuUserMs + addUser,
      cpuSystemMs: this.s.cpuSystemMs + addSystem,
      cpuPercent: prev && t > prev.t ? (100 * (addUser + addSystem)) / (t - prev.t) : this.s.cpuPercent,
      memoryBytes: rss,
      peakMemoryBytes: Math.max(rss, this.s.peakMemoryBytes),
      pids: samples.length,
      samples: this.s.samples + 1,
    };
  }

  private async kill(t: number, samples: readonly ProcessSample[], limit: number): Promise<void> {
    const event: KillEvent = { reason: 'memory', atMs: t, rssBytes: this.s.memoryBytes, limitBytes: limit };
    this.s = { ...this.s, killed: event };
    // Listeners first: whoever waits on the tree's exit must know why before it sees it.
    for (const l of this.listeners) l(event);
    await signalTree(this.parts.sampler, this.roots, 'SIGKILL', this.parts.signal, samples);
  }

  private async throttle(samples: readonly ProcessSample[], pauseMs: number): Promise<void> {
    const { sampler, signal, clock } = this.parts;
    const started = clock.now();
    const stopped = await signalTree(sampler, this.roots, 'SIGSTOP', signal, samples, () => this.done);
    for (const pid of stopped) this.stoppedPids.add(pid);
    try {
      if (!this.done) await clock.sleep(pauseMs, this.abort.signal, true);
    } catch {
      // released during the pause: resume below
    }
    await this.resume();
    this.s = {
      ...this.s,
      throttles: this.s.throttles + 1,
      throttledMs: this.s.throttledMs + (clock.now() - started),
    };
  }

  /** SIGCONT for everything stopped, and for the tree as it is now (in case one was missed). */
  private async resume(): Promise<void> {
    if (this.stoppedPids.size === 0) return;
    const { sampler, signal } = this.parts;
    const current = await sampler.sample(this.roots).catch(() => [] as ProcessSample[]);
    const groups = new Set<number>();
    for (const p of current) if (p.pgid !== undefined && this.stoppedPids.has(p.pgid)) groups.add(p.pgid);
    for (const g of groups) signal(-g, 'SIGCONT');
    for (const pid of new Set([...this.stoppedPids, ...current.map((p) => p.pid)])) signal(pid, 'SIGCONT');
    this.stoppedPids = new Set();
  }
}
