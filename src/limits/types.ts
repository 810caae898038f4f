/**
 * Userspace resource limits: a monitor that samples a process tree and signals it. Weaker than
 * a kernel limit (it acts after the fact, once per interval) and always reported as `userspace`.
 */

/** One live process as a sampler saw it. */
export interface ProcessSample {
  readonly pid: number;
  readonly ppid: number;
  /** Process group, or undefined where the sampler cannot tell. */
  readonly pgid: number | undefined;
  /** CPU time so far, including children it has reaped (their time would vanish otherwise). */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** Resident memory; shared pages count once per process, so a tree's sum can overstate. */
  readonly rssBytes: number;
  /** When it started, in the sampler's own terms: tells a process from a later one reusing its pid. */
  readonly startTime?: string;
}

/** Reads the processes of a tree. Each OS has one under `src/platform/<os>/`. */
export interface TreeSampler {
  /** What it reads, for reports, e.g. `/proc` or `ps`. */
  readonly source: string;
  /** Every live process of the trees rooted at `roots`, the roots included. Dead roots are skipped. */
  sample(roots: readonly number[]): Promise<readonly ProcessSample[]>;
}

/** Sends a signal to a pid, or to a process group when `pid` is negative. False if nobody got it. */
export type Signaller = (pid: number, signal: NodeJS.Signals) => boolean;

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /**
   * Resolves after `ms`; rejects as soon as `signal` aborts. `hold` keeps the process alive
   * meanwhile (while a tree is stopped, exiting would leave it stopped for good).
   */
  sleep(ms: number, signal: AbortSignal, hold?: boolean): Promise<void>;
}

/** What a userspace limiter is asked to hold. Absent means no limit of that kind. */
export interface ResourceConfig {
  /** Resident memory of the whole tree, in bytes. Over it, the tree is killed. Default: none. */
  readonly memoryBytes?: number;
  /** CPU bandwidth of the whole tree in CPUs (0.5 = half of one core). Default: none. */
  readonly cpus?: number;
  /** Number of processes. Always rejected: a monitor sees a fork only after it happened. */
  readonly pids?: number;
  /** How often the tree is sampled. Default: 500 ms. */
  readonly intervalMs?: number;
}

export type LimitKind = 'memory' | 'cpus';

/** Why and when a handle killed its tree. */
export interface KillEvent {
  readonly reason: 'memory';
  /** Clock time of the kill. */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly limitBytes: number;
}

/** What the monitor has seen, as of its last sample. */
export interface ResourceStats {
  /** CPU time of the tree's live processes and of the children they reaped. */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** CPU use over the last interval, pauses included; 100 is one full core. Null before two samples. */
  readonly cpuPercent: number | null;
  readonly memoryBytes: number;
  /** Highest sampled RSS: a lower bound of the true peak, which may fall between samples. */
  readonly peakMemoryBytes: number;
  readonly pids: number;
  readonly samples: number;
  /** Times the tree was stopped for using too much CPU, and for how long in all. */
  readonly throttles: number;
  readonly throttledMs: number;
  /** The tree is stopped right now. */
  readonly stopped: boolean;
  readonly killed: KillEvent | null;
}

/** Limits applied to whatever processes are assigned to it. */
export interface ResourceHandle extends AsyncDisposable {
  readonly config: Readonly<Required<Pick<ResourceConfig, 'intervalMs'>> & ResourceConfig>;
  /** Watches `pid` and every process it starts. Monitoring begins with the first assign. */
  assign(pid: number): void;
  stats(): ResourceStats;
  /** Called once when the handle kills its tree. */
  onKill(listener: (event: KillEvent) => void): void;
  /** Stops monitoring and resumes anything it stopped. Safe to call twice. */
  release(): Promise<void>;
}

/** Turns a config into a handle, or refuses limits it cannot enforce. */
export interface ResourceLimiter {
  readonly name: string;
  /** Limits this limiter can hold. */
  readonly supported: readonly LimitKind[];
  /** Throws UnsupportedError for a limit it cannot enforce, ConfigError for a malformed one. */
  apply(config: ResourceConfig): ResourceHandle;
}
